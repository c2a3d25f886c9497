/**
 * commander, loaded with require rather than import. commander is a CommonJS package: importing it
 * from ES modules makes Node scan its source for named exports first (cjs-module-lexer), which
 * doubled its load time here and, on large inputs, cost a background optimisation of the scanner
 * competing with the analysis for the CPU. Every command-line module takes commander from here.
 */
import { createRequire } from 'node:module';
import type * as CommanderModule from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof CommanderModule;

export const Command = commander.Command;
export type Command = CommanderModule.Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = CommanderModule.CommanderError;
export const Option = commander.Option;
export type Option = CommanderModule.Option;
