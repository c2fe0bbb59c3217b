/*
| Edge globals shared by every page.
*/
import edge from 'edge.js'
import plugins from '#services/plugins'

/** Navigation links added by plugins through the `nav:items` filter. */
edge.global('pluginNavItems', (role?: string) => plugins.hooks.applyFilters('nav:items', [], { role }))
