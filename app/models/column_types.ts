/**
 * Column conversions the generated schema cannot know: pg returns bigint as
 * text (our amounts and sizes fit a JS number), and a JS array given to pg
 * would become a PostgreSQL array instead of jsonb.
 */
export const bigintAsNumber = (value: unknown) => (value === null || value === undefined ? value : Number(value))
export const asJson = (value: unknown) => (value === null || value === undefined ? value : JSON.stringify(value))
