// Development default. In the nginx image this file is replaced at container start by
// /docker-entrypoint.d/40-runtime-config.sh from API_BASE_URL and APP_VERSION.
window.__NEXUS_CONFIG__ = window.__NEXUS_CONFIG__ || { apiBaseUrl: "", appVersion: "dev" };
