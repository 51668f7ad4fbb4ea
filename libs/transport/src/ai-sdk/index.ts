export * from './turn-chunks';
export * from './ui-message-stream';
export * from './ui-messages';
