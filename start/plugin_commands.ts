/*
| Ace commands loader for plugin commands (listed in adonisrc.ts). Ace only
| initialises the app before listing commands, so this loader boots it and
| loads the plugins to learn which commands they add.
*/
import app from '@adonisjs/core/services/app'
import type { BaseCommand } from '@adonisjs/core/ace'
import { bootPlugins } from '#providers/plugin_provider'

let commands: Array<typeof BaseCommand> | undefined

async function pluginCommands() {
  if (!commands) {
    await app.boot()
    const kernel = await bootPlugins(app)
    commands = kernel.commands.map((entry) => entry.command)
  }
  return commands
}

export async function getMetaData() {
  return (await pluginCommands()).map((command) => command.serialize())
}

export async function getCommand(metaData: { commandName: string }) {
  return (await pluginCommands()).find((command) => command.commandName === metaData.commandName) ?? null
}
