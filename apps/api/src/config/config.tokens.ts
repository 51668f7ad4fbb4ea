/** DI token of the {@link ApiConfig}. */
export const API_CONFIG = Symbol('API_CONFIG');
