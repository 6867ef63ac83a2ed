// Swagger UI for one spec of the contract, served by the mock (vendor extensions shown).
"use strict";
const box = document.getElementById("swagger");
window.SwaggerUIBundle({
  url: box.dataset.spec,
  domNode: box,
  deepLinking: false,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  docExpansion: "list",
  defaultModelsExpandDepth: -1,
});
