import { defineConfig } from '@adonisjs/vite'

/*
| The browser assets (resources/css, resources/js) go through Vite. `node ace
| build` writes them with content-hashed names under public/assets of the build
| and a manifest the `@vite()` tag reads; `node ace serve --watch` (make dev)
| and the test runner serve them from Vite's dev server inside the app.
*/
const viteBackendConfig = defineConfig({
  buildDirectory: 'public/assets',
  manifestFile: 'public/assets/.vite/manifest.json',
  assetsUrl: '/assets',
})

export default viteBackendConfig
