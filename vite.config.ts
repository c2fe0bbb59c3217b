import { defineConfig } from 'vite'
import adonisjs from '@adonisjs/vite/client'

/*
| The browser assets: `node ace build` (and the test runner, see
| providers/vite_provider.ts) build them into public/assets with a manifest;
| `node ace serve` (make dev) serves them from Vite's dev server in the app.
*/
export default defineConfig({
  plugins: [
    adonisjs({
      // Each entry point is its own bundle with a content-hashed name in the build.
      entryPoints: ['resources/css/app.css', 'resources/js/app.js'],
      reload: ['resources/views/**/*.edge'],
    }),
    // public/assets is not emptied before a build: the test runs of other
    // environments on this checkout may be serving the previous files (names
    // are content-hashed). The adonisjs plugin forces emptyOutDir on, so this
    // sets it back once the configuration is resolved.
    {
      name: 'matinee:keep-previous-assets',
      enforce: 'post',
      configResolved: (config) => {
        config.build.emptyOutDir = false
        for (const environment of Object.values(config.environments)) environment.build.emptyOutDir = false
      },
    },
  ],
  // public/ is served by @adonisjs/static; Vite only builds resources/.
  publicDir: false,
  build: { assetsInlineLimit: 0 },
  server: { watch: { ignored: ['**/storage/**', '**/tmp/**', '**/build/**', '**/.cache/**', '**/contracts/**'] } },
})
