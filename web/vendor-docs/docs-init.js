// Swagger UI over this server's OpenAPI document. A file of its own, not an inline
// script: the Content-Security-Policy allows this server's scripts only.
window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null, // the default badge would call validator.swagger.io
  });
});
