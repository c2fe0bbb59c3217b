import { randomBytes } from 'node:crypto'
import { BaseSeeder } from '@adonisjs/lucid/seeders'
import app from '@adonisjs/core/services/app'
import User, { type Role } from '#models/user'

const DEMO_ACCOUNTS: Array<{ username: string; email: string; role: Role }> = [
  { username: 'admin', email: 'admin@matinee.local', role: 'admin' },
  { username: 'creator', email: 'creator@matinee.local', role: 'creator' },
  { username: 'viewer', email: 'viewer@matinee.local', role: 'viewer' },
]

/**
 * Demo accounts for a development instance: an admin, a creator and a
 * viewer. Each gets a random password, printed only when the account is
 * created; running the seeder again leaves existing accounts alone.
 */
export default class DemoSeeder extends BaseSeeder {
  static environment = ['development']

  async run() {
    const created: Array<{ role: Role; email: string; password: string }> = []
    for (const account of DEMO_ACCOUNTS) {
      if (await User.findByEmail(account.email)) continue
      const password = `demo-${randomBytes(6).toString('base64url')}`
      await User.create({
        ...account,
        password,
        creatorStatus: account.role === 'viewer' ? 'none' : 'approved',
      })
      created.push({ role: account.role, email: account.email, password })
    }

    if (created.length === 0) {
      console.log('Demo accounts already exist (their passwords were printed when they were made;')
      console.log('`node ace make:admin --email admin@matinee.local` sets a new admin password).')
      return
    }
    console.log('')
    console.log('Demo accounts (shown once, keep them):')
    for (const account of created) {
      console.log(`  ${account.role.padEnd(8)} ${account.email.padEnd(24)} ${account.password}`)
    }
    console.log(`  log in at ${app.inDev ? 'http://localhost:3333/login' : '/login'}`)
    console.log('')
  }
}
