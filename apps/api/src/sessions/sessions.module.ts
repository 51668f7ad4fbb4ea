import { Module } from '@nestjs/common';
import { HintPublisher } from './hint.publisher';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  controllers: [SessionsController],
  providers: [SessionsService, HintPublisher],
})
export class SessionsModule {}
