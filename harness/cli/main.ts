#!/usr/bin/env node
/** The `phonehome` command. Each subcommand lives in its own *-command.ts; this file only lists them. */
import * as analyzeCommand from './analyze-command.js';
import * as baselineCommand from './baseline-command.js';
import * as dbCommand from './db-command.js';
import * as demoCommand from './demo-command.js';
import * as devicesCommand from './devices-command.js';
import * as diffCommand from './diff-command.js';
import * as farmCommand from './farm-command.js';
import * as interceptCommand from './intercept-command.js';
import * as reportCommand from './report-command.js';
import { runCli, type SubcommandModule } from './run-cli.js';
import * as runCommand from './run-command.js';
import * as scenariosCommand from './scenarios-command.js';
import * as simCommand from './sim-command.js';

/** Every subcommand, in the order `phonehome --help` lists them. */
const COMMANDS: SubcommandModule[] = [
  analyzeCommand,
  devicesCommand,
  runCommand,
  scenariosCommand,
  demoCommand,
  reportCommand,
  diffCommand,
  baselineCommand,
  dbCommand,
  simCommand,
  interceptCommand,
  farmCommand,
];

process.exitCode = await runCli(process.argv, COMMANDS);
