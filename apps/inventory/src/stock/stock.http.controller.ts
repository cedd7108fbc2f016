import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Sku } from '@app/contracts';
import {
  ApiErrorResponses,
  ApiZodBody,
  ApiZodParam,
  ApiZodResponse,
  RequireApiKey,
  ZodValidationPipe,
} from '@app/platform';
import { z } from 'zod';
import { type StockLevel, StockService } from './stock.service.js';

const SetStockBody = z.strictObject({ available: z.number().int().min(0).max(1_000_000_000) });

const StockLevelView = z.object({
  sku: Sku,
  available: z.int().min(0),
  updatedAt: z.iso.datetime(),
}) satisfies z.ZodType<StockLevel>;

const exampleLevel: StockLevel = {
  sku: 'LAPTOP-STAND',
  available: 8,
  updatedAt: '2030-01-02T03:04:05.000Z',
};
const SkuParam = ApiZodParam('sku', Sku, 'The SKU, e.g. LAPTOP-STAND');

@ApiTags('stock')
@Controller('stock')
export class StockHttpController {
  constructor(private readonly stock: StockService) {}

  @Get(':sku')
  @RequireApiKey('read')
  @ApiOperation({ summary: 'Units of a SKU available to reserve' })
  @SkuParam
  @ApiZodResponse(200, StockLevelView, { description: 'The stock level', example: exampleLevel })
  @ApiErrorResponses([400, 'Not a valid SKU'], [404, 'INVENTORY.SKU_NOT_FOUND'])
  get(@Param('sku', new ZodValidationPipe(Sku)) sku: string): Promise<StockLevel> {
    return this.stock.get(sku);
  }

  /** Admin: restock or correct; never below 0. */
  @Put(':sku')
  @RequireApiKey('admin')
  @ApiOperation({
    summary: 'Set the available units of a SKU (admin)',
    description: 'Restock or correct; creates the SKU if new. Needs an admin key.',
  })
  @SkuParam
  @ApiZodBody(SetStockBody, { available: 8 })
  @ApiZodResponse(200, StockLevelView, { description: 'The new level', example: exampleLevel })
  @ApiErrorResponses(400)
  set(
    @Param('sku', new ZodValidationPipe(Sku)) sku: string,
    @Body(new ZodValidationPipe(SetStockBody)) body: z.infer<typeof SetStockBody>,
  ): Promise<StockLevel> {
    return this.stock.set(sku, body.available);
  }
}
