import type { ServiceSpec } from '../spec.js';

/** `<service>.http.controller.ts`: thin, validated by zod, documented at /docs from the same schemas. */
export function httpControllerFile(s: ServiceSpec): string {
  const routes: string[] = [];
  for (const r of s.rpcs) {
    routes.push(`  /** The same use case as the ${r.name} RPC, over HTTP. */
  @Post('${r.verb}')
  @HttpCode(200)
  @RequireApiKey()
  @ApiOperation({ summary: '${r.name}, over HTTP' })
  @ApiZodBody(${r.constant}.request, ${r.constant}.example!.request)
  @ApiZodResponse(200, ${r.constant}.response, { description: 'The answer', example: ${r.constant}.example!.response })
  @ApiErrorResponses(400)
  ${r.method}(@Body(new ZodValidationPipe(${r.constant}.request)) body: RequestOf<typeof ${r.constant}>) {
    return this.${s.camel}.${r.method}(body);
  }`);
  }
  if (s.db) {
    routes.push(`  @Get('records')
  @ApiOperation({ summary: 'What ${s.name} recorded, newest first' })
  @ApiZodQuery(ListQuery)
  @ApiZodResponse(200, z.array(RecordView), { description: 'The records' })
  @ApiErrorResponses(400)
  list(@Query(new ZodValidationPipe(ListQuery)) query: z.infer<typeof ListQuery>): Promise<${s.pascal}Record[]> {
    return this.${s.camel}.listRecords(query);
  }`);
    routes.push(`  @Get('records/:id')
  @ApiOperation({ summary: 'One record, by the id of the request or event that made it' })
  @ApiZodResponse(200, RecordView, { description: 'The record' })
  @ApiErrorResponses([404, '${s.errorPrefix}.RECORD_NOT_FOUND'])
  find(@Param('id') id: string): Promise<${s.pascal}Record> {
    return this.${s.camel}.findRecord(id);
  }`);
  }
  if (!s.db && s.rpcs.length === 0) {
    routes.push(`  @Get()
  @ApiOperation({ summary: 'Which service this is' })
  @ApiZodResponse(200, z.object({ service: z.string() }), { description: 'Its name' })
  about() {
    return this.${s.camel}.about();
  }`);
  }
  const nest = [
    'Controller',
    ...(s.db || !s.rpcs.length ? ['Get'] : []),
    ...(s.rpcs.length ? ['Body', 'HttpCode', 'Post'] : []),
    ...(s.db ? ['Param', 'Query'] : []),
  ].sort();
  const platform = [
    'ApiErrorResponses',
    ...(s.rpcs.length ? ['ApiZodBody'] : []),
    ...(s.db ? ['ApiZodQuery'] : []),
    'ApiZodResponse',
    ...(s.rpcs.length ? ['RequireApiKey'] : []),
    ...(s.db || s.rpcs.length ? ['ZodValidationPipe'] : []),
  ].filter((name) => name !== 'ApiErrorResponses' || s.db || s.rpcs.length);
  const contracts = s.rpcs.map((r) => r.constant);
  const views = s.db
    ? `
const ListQuery = z.strictObject({
  type: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const RecordView = z.object({
  id: z.string(),
  type: z.string(),
  data: z.unknown(),
  createdAt: z.iso.datetime(),
}) satisfies z.ZodType<${s.pascal}Record>;
`
    : '';
  return `import { ${nest.join(', ')} } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
${contracts.length ? `import { ${contracts.join(', ')}, type RequestOf } from '@app/contracts';` : ''}
import { ${platform.join(', ')} } from '@app/platform';
${s.db || !s.rpcs.length ? `import { z } from 'zod';` : ''}
import { ${s.db ? `type ${s.pascal}Record, ` : ''}${s.pascal}Service } from './${s.name}.service.js';
${views}
/** HTTP adapter, thin: validation at the edge, the use case in ${s.pascal}Service. */
@ApiTags('${s.name}')
@Controller('${s.name}')
export class ${s.pascal}HttpController {
  constructor(private readonly ${s.camel}: ${s.pascal}Service) {}

${routes.join('\n\n')}
}
`;
}
