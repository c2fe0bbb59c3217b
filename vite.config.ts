import { defineConfig } from 'vite'
import adonisjs from '@adonisjs/vite/client'

/*
| The test runner starts Vite's dev server inside the app (as @adonisjs/vite
| does in its `test` environment): no file watcher and no HMR socket there,
| since several test runs share this machine and the page's
| Content-Security-Policy allows same-origin connections only.
*/
const testing = process.env.NODE_ENV === 'test'

export default defineConfig({
  plugins: [
    adonisjs({
      // Each entry point is its own bundle with a content-hashed name in the build.
      entryPoints: ['resources/css/app.css', 'resources/js/app.js'],
      reload: ['resources/views/**/*.edge'],
    }),
  ],
  // public/ is served by @adonisjs/static; Vite only builds resources/.
  publicDir: false,
  // Not emptied before a build: the test runs of other environments on this
  // checkout may be serving the previous files (names are content-hashed).
  build: { assetsInlineLimit: 0, emptyOutDir: false },
  server: testing
    ? { ws: false, watch: null, hmr: false }
    : { watch: { ignored: ['**/storage/**', '**/tmp/**', '**/build/**', '**/.cache/**', '**/contracts/**'] } },
})
