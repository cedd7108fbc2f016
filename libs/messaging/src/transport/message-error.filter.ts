import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

/**
 * The filter of every `@HandleRpc` / `@HandleEvent` handler: its error passes through
 * unchanged. Nest's default RPC filter would replace it with "Internal server error", but the
 * transport needs the original: its class decides retry vs dead-letter, and its `code` goes
 * into the RPC error reply. On the handlers themselves, so that no app-wide (HTTP) filter is
 * needed on the message path.
 */
@Catch()
export class MessageErrorFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
