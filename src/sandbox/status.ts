export async function writeStatus(): Promise<void> {}
