import { Module } from '@nestjs/common';
import { StreamHubService } from './stream-hub.service';
import { StreamRoute } from './stream.route';

/** The stream engine and its SSE route (served beneath Express, see `serveBeneathExpress`). */
@Module({
  providers: [StreamHubService, StreamRoute],
  exports: [StreamHubService, StreamRoute],
})
export class StreamsModule {}
