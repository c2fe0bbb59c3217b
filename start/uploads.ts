/*
| A web node's chores (app/services/chores): it sweeps away the uploads
| abandoned on its own disk longer than config/media.ts allows.
*/
import app from '@adonisjs/core/services/app'

if (app.getEnvironment() === 'web') {
  const { webChores } = await import('#services/chores/index')
  const { ChoreScheduler } = await import('#services/chores/scheduler')
  const chores = new ChoreScheduler(await webChores())
  app.terminating(() => chores.stop())
  chores.start()
}
