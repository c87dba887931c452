// Sort order for names and timestamps: UTF-16 code units, the same on every machine and locale.
// Not localeCompare: its first call loads ICU's collator (~8 ms, measured), paid by every command
// that sorts once — a rollback sorted its releases by date with it.
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
