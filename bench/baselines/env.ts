/** A variable the orchestrator always sets (the product's own names, so both sides read one env). */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: baselines are started by bench/run.ts`);
  return value;
}
