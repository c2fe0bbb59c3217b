import { assert } from '@japa/assert'
import type { Config } from '@japa/runner/types'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { pluginAdonisJS } from '@japa/plugin-adonisjs'
import testUtils from '@adonisjs/core/services/test_utils'
import { smtp } from '#tests/helpers/smtp_capture'

export const plugins: Config['plugins'] = [assert(), pluginAdonisJS(app)]

/**
 * Before everything: a fresh schema in the test database (never the dev
 * one: see .env.test) and an SMTP server on loopback that captures mail.
 */
export const runnerHooks: Required<Pick<Config, 'setup' | 'teardown'>> = {
  setup: [
    () => {
      // `node ace test` started without NODE_ENV=test hands the child the
      // development .env values: refuse rather than wipe the dev database.
      const database = env.get('DB_DATABASE')
      if (!database.endsWith('_test')) {
        throw new Error(`Refusing to run tests against database "${database}": run them with NODE_ENV=test (make test)`)
      }
    },
    async () => {
      await smtp.start(env.get('SMTP_PORT'), env.get('SMTP_HOST'))
      return () => smtp.stop()
    },
    () => testUtils.db().migrate(),
  ],
  teardown: [],
}

export const configureSuite: Config['configureSuite'] = (suite) => {
  if (suite.name === 'functional' || suite.name === 'browser' || suite.name === 'plugins') {
    return suite.setup(() => testUtils.httpServer().start())
  }
}
