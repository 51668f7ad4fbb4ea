import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as NestLogger } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { ApiModule, type ApiRuntime } from './api.module';
import { configureHttpServer } from './common/http-server';
import { corsOptions } from './common/cors.options';
import { bodyLimitBytes, jsonBody } from './common/json-body.middleware';
import type { ApiConfig } from './config/api-config';
import { ProblemFilter } from './errors/problem.filter';
import { LifecycleService } from './health/lifecycle.service';
import { mountOpenApi } from './openapi/openapi';
import { mountPlayground } from './playground/playground';
import { serveBeneathExpress } from './streams/beneath-express';
import { StreamHubService } from './streams/stream-hub.service';
import { StreamRoute } from './streams/stream.route';

export type { ApiRuntime };

/**
 * The API app with everything set up (logger, body limit, problem+json filter, OpenAPI, drain,
 * the stream route beneath Express), not yet listening. The caller owns `runtime` and closes it after `app.close()`.
 */
export async function createApiApp(
  config: ApiConfig,
  runtime: ApiRuntime,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, runtime), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  configureHttpServer(app.getHttpServer(), config.http);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const cors = corsOptions(config);
  if (cors) app.enableCors(cors);
  if (config.playground && !mountPlayground(app, config)) {
    new NestLogger('Playground').warn(
      'PLAYGROUND is on but dist/playground is missing: npm run build',
    );
  }
  app.use(...jsonBody(bodyLimitBytes(config.maxMessageBytes)));
  app.useGlobalFilters(new ProblemFilter());
  mountOpenApi(app);
  serveBeneathExpress(app.getHttpServer(), app.get(StreamRoute));
  return app;
}

/**
 * Graceful stop (SIGTERM): readiness fails and new streams get 503 at once, open streams are
 * closed spread over `DRAIN_MS`, then the app closes. The runtime is left to the caller.
 */
export async function drainApiApp(app: NestExpressApplication, config: ApiConfig): Promise<void> {
  app.get(LifecycleService).beginDrain();
  await app.get(StreamHubService).drain(config.drainMs);
  await app.close();
}
