/*
| Edge globals shared by every page.
*/
import edge, { edgeGlobals } from 'edge.js'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { escapeHtml } from '#hooks/html'
import plugins from '#services/plugins'
import { formatMoney, formatPrice } from '#services/money'
import { formatTokenAmount } from '#hooks/money'
import { barChart } from '#services/charts'
import { holdingText, offerGives, offerLabel, shortDate } from '#services/commerce/offer_texts'

/**
 * `html.attrs` with its values escaped. Edge 6.5's own writes string values
 * into the attribute as they are (`value: '"><script>'` closes the tag), so
 * a field's old input or a plugin's data could inject markup. Booleans,
 * `class` (class names) and undefined pass through unchanged.
 */
edge.global('html', {
  ...edgeGlobals.html,
  attrs: (values: Record<string, unknown>) =>
    edgeGlobals.html.attrs(
      Object.fromEntries(
        Object.entries(values).map(([key, value]) => [
          key,
          key === 'class' || typeof value === 'boolean' || value === undefined || value === null
            ? value
            : Array.isArray(value)
              ? value.map((item) => escapeHtml(String(item)))
              : escapeHtml(String(value)),
        ])
      )
    ),
})

// Compiled templates stay in memory in production (the Edge provider's rule) and wherever
// VIEW_CACHE=true: the benchmarks' production build runs with NODE_ENV=test and must render as production does.
if (app.inProduction || env.get('VIEW_CACHE')) edge.configure({ cache: true })

/** Navigation links added by plugins through the `nav:items` filter. */
edge.global('pluginNavItems', (role?: string) => plugins.hooks.applyFilters('nav:items', [], { role }))

/** Admin console links added by plugins through the `admin:nav` filter. */
edge.global('pluginAdminNavItems', () => plugins.hooks.applyFilters('admin:nav', [], {}))

edge.global('formatMoney', formatMoney)
edge.global('formatPrice', formatPrice)

/** Crypto amounts (token units as a bigint or a digit string) to six significant digits: "0.00166667 ETH". */
edge.global('formatTokenAmount', (units: bigint | string, decimals: number, symbol?: string) => formatTokenAmount(BigInt(units), decimals, symbol))

/** Server-drawn charts' geometry (components/bar_chart.edge). */
edge.global('barChart', barChart)

/** 75.4 → "1:15", 3725 → "1:02:05". */
edge.global('formatDuration', (seconds: number | null) => {
  if (!seconds) return ''
  const total = Math.round(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
})

/** Watch time: 0 → "0 min", 2700 → "45 min", 9000 → "2 h 30 min". */
edge.global('formatWatchTime', (seconds: number) => {
  const minutes = Math.round(Math.max(0, seconds) / 60)
  const hours = Math.floor(minutes / 60)
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`
})

/** 1536 → "1.5 KB", 5_000_000_000 → "4.66 GB" (binary units, as disks are sold in decimal ones but filled in these). */
edge.global('formatBytes', (bytes: number | null) => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = Number(bytes ?? 0)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
})

/** What offers give and what a viewer holds, in words (app/services/commerce/offer_texts.ts). */
edge.global('offerGives', offerGives)
edge.global('offerLabel', offerLabel)
edge.global('holdingText', holdingText)
edge.global('shortDate', shortDate)
