import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'users'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id').notNullable()
      table.string('username', 30).notNullable()
      table.string('email', 254).notNullable().unique()
      table.string('password').notNullable()
      table.enum('role', ['viewer', 'creator', 'admin']).notNullable().defaultTo('viewer')
      table
        .enum('creator_status', ['none', 'pending', 'approved', 'rejected'])
        .notNullable()
        .defaultTo('none')
      table.timestamp('creator_applied_at').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').nullable()
    })
    // Usernames are unique whatever their case ("Alice" and "alice" are one name).
    this.schema.raw('CREATE UNIQUE INDEX users_username_lower_unique ON users (lower(username))')
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
