/** A minimal typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (value: never) => void);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): void {
    this.listeners.get(name)?.delete(listener as (value: never) => void);
  }

  /**
   * Calls every listener of `name` in registration order. A listener that throws does not stop the
   * others; its error is passed to `onListenerError` (which the owner reports).
   */
  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        (listener as (value: Events[K]) => void)(value);
      } catch (error) {
        this.onListenerError(name as string, error);
      }
    }
  }

  protected listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  protected onListenerError(name: string, error: unknown): void {
    globalThis.console?.error?.(`sessionwire: a '${name}' listener threw`, error);
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}
