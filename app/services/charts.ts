import { DateTime } from 'luxon'

/** One day's bar: `value` is the bar, `inner` an optional part of it drawn inside (net within gross). */
export interface DayBar {
  day: string
  value: number
  inner?: number
}

export interface BarChartInput {
  bars: DayBar[]
  /** How an axis label or a tooltip writes a value ("$4.99", "12 views"). */
  format: (value: number) => string
  valueLabel: string
  innerLabel?: string
  /** Counts (views): gridlines at whole numbers. */
  integer?: boolean
}

const WIDTH = 480
const HEIGHT = 220
const PLOT = { left: 58, right: 24, top: 10, bottom: 28 }

/** The smallest "nice" number (1, 2, 2.5 or 5 × 10^n) at least `value`. */
export function niceCeiling(value: number) {
  if (value <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  const step = [1, 2, 2.5, 5, 10].find((candidate) => candidate * power >= value)!
  return step * power
}

/**
 * The geometry of a bar chart of days, drawn by the server as SVG
 * (components/bar_chart.edge): bars, a y axis with four gridlines and their
 * values, dates under the x axis about once a week, and a tooltip (SVG
 * <title>) per day, shown on hover anywhere in its column. No script.
 */
export function barChart({ bars, format, valueLabel, innerLabel, integer = false }: BarChartInput) {
  const plotWidth = WIDTH - PLOT.left - PLOT.right
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom
  const highest = Math.max(0, ...bars.map((bar) => bar.value))
  // Four gridlines: for counts, a whole number apart.
  const top = integer ? 4 * Math.max(1, Math.ceil(niceCeiling(highest / 4))) : niceCeiling(highest)
  const scale = (value: number) => (Math.max(0, value) / top) * plotHeight
  const slot = plotWidth / Math.max(1, bars.length)
  const baseline = PLOT.top + plotHeight
  const labelEvery = Math.max(1, Math.ceil(bars.length / 6))
  const round = (n: number) => Math.round(n * 10) / 10
  return {
    width: WIDTH,
    height: HEIGHT,
    plot: { left: PLOT.left, right: WIDTH - PLOT.right, top: PLOT.top, bottom: baseline },
    yTicks: [0, 1, 2, 3, 4].map((i) => ({ y: round(baseline - (plotHeight * i) / 4), label: format((top * i) / 4) })),
    xTicks: bars
      .map((bar, index) => ({ index, bar }))
      .filter(({ index }) => (bars.length - 1 - index) % labelEvery === 0)
      .map(({ index, bar }) => ({ x: round(PLOT.left + index * slot + slot / 2), label: DateTime.fromISO(bar.day, { zone: 'utc' }).toFormat('d LLL') })),
    bars: bars.map((bar, index) => {
      const height = scale(bar.value)
      const innerHeight = bar.inner === undefined ? 0 : scale(bar.inner)
      const date = DateTime.fromISO(bar.day, { zone: 'utc' }).toFormat('d LLL yyyy')
      const parts = [`${format(bar.value)} ${valueLabel}`]
      if (bar.inner !== undefined && innerLabel) parts.push(`${format(bar.inner)} ${innerLabel}`)
      return {
        day: bar.day,
        column: { x: round(PLOT.left + index * slot), width: round(slot) },
        x: round(PLOT.left + index * slot + slot * 0.15),
        width: round(slot * 0.7),
        y: round(baseline - height),
        height: round(height),
        inner: bar.inner === undefined ? null : { x: round(PLOT.left + index * slot + slot * 0.3), width: round(slot * 0.4), y: round(baseline - innerHeight), height: round(innerHeight) },
        title: `${date}: ${parts.join(', ')}`,
      }
    }),
  }
}

export type BarChart = ReturnType<typeof barChart>
