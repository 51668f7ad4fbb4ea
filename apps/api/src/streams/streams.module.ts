import { Module } from '@nestjs/common';
import { StreamHubService } from './stream-hub.service';
import { StreamsController } from './streams.controller';

@Module({
  controllers: [StreamsController],
  providers: [StreamHubService],
  exports: [StreamHubService],
})
export class StreamsModule {}
