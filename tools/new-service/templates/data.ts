import type { ServiceSpec } from '../spec.js';

/** `<service>.statements.ts`: the sample's SQL, one named statement each (with --db). */
export function statementsFile(s: ServiceSpec): string {
  const example = s.rpcs[0]?.name ?? s.events[0]?.name ?? `${s.name}.something`;
  return `import { statement } from '@app/database';

/** A row of \`records\` (schema ${s.schema}): what the service recorded, the sample's one table. */
export interface RecordRow {
  /** The message that made the record, e.g. ${example}. */
  type: string;
  /** The request's id (RPC) or the event's message_id. */
  id: string;
  data: unknown;
  created_at: Date;
}

const COLUMNS = 'type, id, data, created_at';

/** Nothing when a record of that type and id exists: the first one stays. */
export const insertRecord = statement<RecordRow, [type: string, id: string, data: string]>(
  '${s.name}.insert-record',
  \`insert into records (type, id, data) values ($1, $2, $3)
   on conflict (type, id) do nothing
   returning \${COLUMNS}\`,
);

${s.rpcs.length ? findRecord(s) : ''}/** By id alone: the oldest record of that id, whatever made it. */
export const findRecordById = statement<RecordRow, [id: string]>(
  '${s.name}.find-record-by-id',
  \`select \${COLUMNS} from records where id = $1 order by created_at limit 1\`,
);

export const listNewestFirst = statement<RecordRow, [type: string | null, limit: number]>(
  '${s.name}.list-records',
  \`select \${COLUMNS} from records
   where ($1::text is null or type = $1) order by created_at desc limit $2\`,
);
`;
}

const findRecord = (
  s: ServiceSpec,
) => `export const findRecord = statement<RecordRow, [type: string, id: string]>(
  '${s.name}.find-record',
  \`select \${COLUMNS} from records where type = $1 and id = $2\`,
);

`;

/** `<service>.repository.ts`: runs the statements and maps rows, nothing else (with --db). */
export function repositoryFile(s: ServiceSpec): string {
  return `import { Injectable } from '@nestjs/common';
import { Database${s.rpcs.length || s.events.length ? ', type Transaction' : ''} } from '@app/database';
import * as sql from './${s.name}.statements.js';

export interface ${s.pascal}Record {
  id: string;
  type: string;
  data: unknown;
  createdAt: string;
}

/** SQL for the sample's records, nothing else: no events, no rules. */
@Injectable()
export class ${s.pascal}Repository {
  constructor(private readonly db: Database) {}

${[...(s.events.length ? [add] : []), ...(s.rpcs.length ? [addOnce(s)] : [])].map((m) => `${m}\n`).join('')}  async find(id: string): Promise<${s.pascal}Record | undefined> {
    const row = await this.db.first(sql.findRecordById, [id]);
    return row && toRecord(row);
  }

  async list(filter: { type?: string; limit: number }): Promise<${s.pascal}Record[]> {
    const rows = await this.db.query(sql.listNewestFirst, [filter.type ?? null, filter.limit]);
    return rows.map(toRecord);
  }
}

function toRecord(row: sql.RecordRow): ${s.pascal}Record {
  return { id: row.id, type: row.type, data: row.data, createdAt: row.created_at.toISOString() };
}
`;
}

const add = `  /** Stores the record in \`tx\` unless one of its type and id exists (nothing to await). */
  add(tx: Transaction, type: string, id: string, data: unknown): void {
    tx.write(sql.insertRecord, [type, id, JSON.stringify(data)]);
  }
`;

const addOnce = (s: ServiceSpec) => `  /**
   * Stores the record unless one of its type and id exists, and returns the one stored
   * first. A concurrent first one is waited for (its unique key), then read.
   */
  async addOnce(tx: Transaction, type: string, id: string, data: unknown): Promise<${s.pascal}Record> {
    const [inserted] = await tx.query(sql.insertRecord, [type, id, JSON.stringify(data)]);
    const row = inserted ?? (await tx.query(sql.findRecord, [type, id]))[0];
    if (!row) throw new Error(\`Record \${type} \${id} vanished inside its transaction\`);
    return toRecord(row);
  }
`;
