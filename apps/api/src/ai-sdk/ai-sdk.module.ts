import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { StreamsModule } from '../streams/streams.module';
import { AiSdkController } from './ai-sdk.controller';
import { AiSdkService } from './ai-sdk.service';
import { AiSdkStreams } from './ai-sdk-streams.service';

/** The Vercel AI SDK adapter (PROTOCOL §9): chat POST, resume GET, messages, stop. */
@Module({
  imports: [SessionsModule, StreamsModule],
  controllers: [AiSdkController],
  providers: [AiSdkService, AiSdkStreams],
})
export class AiSdkModule {}
