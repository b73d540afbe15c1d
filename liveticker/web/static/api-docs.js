// Starts Swagger UI on /api/v1/docs. A file of its own rather than an inline script, so
// the page works under a Content-Security-Policy that allows no inline scripts; the
// OpenAPI document's URL comes from the page (data-openapi-url), which knows root_path.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var bundle = window.SwaggerUIBundle;
  // FastAPI's own defaults for its docs page, so the page looks as it did from the CDN.
  window.ui = bundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [bundle.presets.apis, bundle.SwaggerUIStandalonePreset],
    // The validator badge is an image from validator.swagger.io: another host, and it
    // would send our OpenAPI document's URL there. The docs load nothing from elsewhere.
    validatorUrl: null,
  });
})();
