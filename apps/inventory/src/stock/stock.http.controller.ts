import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { Sku } from '@app/contracts';
import { ZodValidationPipe } from '@app/platform';
import { z } from 'zod';
import { type StockLevel, StockService } from './stock.service.js';

const SetStockBody = z.strictObject({ available: z.number().int().min(0).max(1_000_000_000) });

@Controller('stock')
export class StockHttpController {
  constructor(private readonly stock: StockService) {}

  @Get(':sku')
  get(@Param('sku', new ZodValidationPipe(Sku)) sku: string): Promise<StockLevel> {
    return this.stock.get(sku);
  }

  @Put(':sku')
  set(
    @Param('sku', new ZodValidationPipe(Sku)) sku: string,
    @Body(new ZodValidationPipe(SetStockBody)) body: z.infer<typeof SetStockBody>,
  ): Promise<StockLevel> {
    return this.stock.set(sku, body.available);
  }
}
