/** System commands by name: the info, clock, process and service families, one file each. */
import { clockCommands } from './clock-commands.js';
import type { CommandHandler } from './command.js';
import { infoCommands } from './info-commands.js';
import { processCommands } from './process-commands.js';
import { serviceCommands } from './service-commands.js';

/** System commands by name. */
export const systemCommands: Record<string, CommandHandler> = {
  ...infoCommands,
  ...clockCommands,
  ...processCommands,
  ...serviceCommands,
};
