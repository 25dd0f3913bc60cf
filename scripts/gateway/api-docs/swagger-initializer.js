// Starts Swagger UI on the spec this gateway serves. "Try it out" sends its requests to
// the spec's first server, "/": the gateway that served the page.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // The default shows a badge fetched from an online validator: no calls out.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    onComplete: resolveAllPaths,
  });
});

// Swagger UI resolves $refs one operation at a time, when it is expanded. Under OpenAPI
// 3.1 that leaves the parameters a path shares among its operations (`id`, X-Request-Id)
// unresolved: nameless "any" fields. Resolving every path at once (a small spec) fixes it.
function resolveAllPaths() {
  window.ui.specActions.requestResolvedSubtree(['paths']);
}
