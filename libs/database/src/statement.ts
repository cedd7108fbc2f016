/**
 * One SQL statement, written once and named. pg prepares a named statement once per
 * connection (Parse); every later use sends only its parameters (Bind/Execute), so neither
 * this process nor PostgreSQL builds, parses or plans the same text again
 * (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY).
 *
 * `Row` and `Params` are the types the statement is declared with: `Database.query` and
 * `Transaction.query` take exactly those parameters and return those rows.
 */
export interface Statement<Row = unknown, Params extends readonly unknown[] = readonly unknown[]> {
  readonly name: string;
  readonly text: string;
  /** Never set: carries the declared types to the compiler. */
  readonly types?: { row: Row; params: Params };
}

const declared = new Map<string, string>();

/**
 * Declares a statement. Names are global to a connection, so two different texts under one
 * name would fail on the first connection that prepares both: refused here, at load time.
 */
export function statement<Row, Params extends readonly unknown[] = []>(
  name: string,
  text: string,
): Statement<Row, Params> {
  const earlier = declared.get(name);
  if (earlier !== undefined && earlier !== text) {
    throw new Error(`Two SQL statements are named "${name}"; statement names must be unique`);
  }
  declared.set(name, text);
  return { name, text };
}
