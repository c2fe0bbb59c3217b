import { defineConfig } from '@adonisjs/core/app'

export default defineConfig({
  experimental: {},

  /*
  | `node ace build` builds the browser assets with Vite (content-hashed names
  | and the manifest under public/assets of the build).
  */
  hooks: {
    buildStarting: [() => import('@adonisjs/vite/build_hook')],
  },

  /*
  | Ace commands from packages and plugins. App commands are scanned from ./commands.
  */
  commands: [
    () => import('@adonisjs/core/commands'),
    () => import('@adonisjs/lucid/commands'),
    () => import('@adonisjs/session/commands'),
    () => import('@adonisjs/mail/commands'),
    () => import('#start/plugin_commands'),
  ],

  providers: [
    () => import('@adonisjs/core/providers/app_provider'),
    () => import('@adonisjs/core/providers/hash_provider'),
    {
      file: () => import('@adonisjs/core/providers/repl_provider'),
      environment: ['repl', 'test'],
    },
    () => import('@adonisjs/core/providers/vinejs_provider'),
    () => import('@adonisjs/core/providers/edge_provider'),
    () => import('@adonisjs/lucid/database_provider'),
    () => import('@adonisjs/session/session_provider'),
    () => import('@adonisjs/shield/shield_provider'),
    () => import('@adonisjs/static/static_provider'),
    () => import('#providers/vite_provider'),
    () => import('@adonisjs/auth/auth_provider'),
    () => import('@adonisjs/redis/redis_provider'),
    () => import('@adonisjs/limiter/limiter_provider'),
    () => import('@adonisjs/mail/mail_provider'),
    () => import('#providers/transmit_provider'),
    () => import('#providers/plugin_provider'),
  ],

  preloads: [
    () => import('#start/redis'),
    () => import('#start/validator'),
    () => import('#start/view'),
    () => import('#start/limiter'),
    () => import('#start/routes'),
    // Transmit's routes: only where HTTP is served (a command that broadcasts creates Transmit when it does).
    { file: () => import('#start/transmit'), environment: ['web', 'test'] },
    { file: () => import('#start/uploads'), environment: ['web'] },
    () => import('#start/kernel'),
  ],

  tests: {
    suites: [
      { files: ['tests/unit/**/*.spec.ts'], name: 'unit', timeout: 20000 },
      { files: ['tests/functional/**/*.spec.ts'], name: 'functional', timeout: 60000 },
      { files: ['tests/browser/**/*.spec.ts'], name: 'browser', timeout: 180000 },
      // Plugin packages' own tests (first-party and examples), run with the app like the others.
      { files: ['plugins/*/tests/**/*.spec.ts', 'examples/*/tests/**/*.spec.ts'], name: 'plugins', timeout: 60000 },
    ],
    forceExit: false,
  },

  metaFiles: [
    { pattern: 'resources/views/**/*.edge', reloadServer: false },
    { pattern: 'public/**', reloadServer: false },
    // Plugin packages (and the plugin kit) keep their package.json in the build.
    { pattern: 'app/hooks/package.json', reloadServer: false },
    { pattern: 'plugins/*/package.json', reloadServer: false },
    { pattern: 'examples/*/package.json', reloadServer: false },
    // The x402 plugin's contract ABIs and its browser script.
    { pattern: 'plugins/*/contracts/*.json', reloadServer: false },
    { pattern: 'plugins/*/public/**', reloadServer: false },
    // The templates of node ace make:plugin.
    { pattern: 'commands/plugin_stubs/**', reloadServer: false },
    // Plugin packages' Edge views (api.views.mount reads them at boot).
    { pattern: 'plugins/*/views/**', reloadServer: false },
    { pattern: 'examples/*/views/**', reloadServer: false },
  ],
})
