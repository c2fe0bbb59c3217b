import { BaseCommand } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Creates the configured PostgreSQL database when it does not exist yet
 * (connecting to the server's "postgres" database to do so).
 */
export default class DbCreate extends BaseCommand {
  static commandName = 'db:create'
  static description = 'Create the configured PostgreSQL database if it is missing'
  static options: CommandOptions = { startApp: true }

  async run() {
    const { default: pg } = await import('pg')
    const connection = this.app.config.get<any>('database.connections.postgres.connection')
    const name: string = connection.database
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      this.logger.error(`DB_DATABASE "${name}" may only hold letters, digits and underscores`)
      this.exitCode = 1
      return
    }
    const client = new pg.Client({ ...connection, database: 'postgres' })
    try {
      await client.connect()
      const found = await client.query('select 1 from pg_database where datname = $1', [name])
      if (found.rowCount) {
        this.logger.info(`database "${name}" exists`)
      } else {
        await client.query(`create database "${name}"`)
        this.logger.success(`created database "${name}"`)
      }
    } catch (error) {
      this.logger.error(`could not reach PostgreSQL at ${connection.host}:${connection.port}: ${(error as Error).message}`)
      this.exitCode = 1
    } finally {
      await client.end().catch(() => {})
    }
  }
}
