/*
| HTTP kernel: server-wide and router middleware, plus named middleware.
*/
import router from '@adonisjs/core/services/router'
import server from '@adonisjs/core/services/server'

server.errorHandler(() => import('#exceptions/handler'))

server.use([
  () => import('#middleware/container_bindings_middleware'),
  // Before the static files: a player asks for a segment every few seconds,
  // and /play/ is never a file of public/ (no stat of it per request).
  () => import('#middleware/play_fast_path_middleware'),
  () => import('@adonisjs/static/static_middleware'),
  () => import('#middleware/public_health_middleware'),
  // Serves resources/ from Vite's dev server in development and tests; passes through in production.
  () => import('@adonisjs/vite/vite_middleware'),
])

router.use([
  () => import('@adonisjs/core/bodyparser_middleware'),
  () => import('@adonisjs/session/session_middleware'),
  () => import('@adonisjs/shield/shield_middleware'),
  () => import('#middleware/referrer_policy_middleware'),
  () => import('@adonisjs/auth/initialize_auth_middleware'),
  () => import('#middleware/silent_auth_middleware'),
  () => import('#middleware/display_currency_middleware'),
])

export const middleware = router.named({
  guest: () => import('#middleware/guest_middleware'),
  auth: () => import('#middleware/auth_middleware'),
  role: () => import('#middleware/role_middleware'),
  referrerPolicy: () => import('#middleware/referrer_policy_middleware'),
})
