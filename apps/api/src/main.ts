import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module, Controller, Get } from '@nestjs/common';
import { EventStore } from '@sessionwire/events';
@Controller() class H { @Get('healthz') h() { return { ok: typeof EventStore }; } }
@Module({ controllers: [H] }) class M {}
async function main() { const app = await NestFactory.create(M); await app.listen(Number(process.env.PORT ?? 3000)); console.log('up'); }
void main();
