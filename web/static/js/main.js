// @ts-check
// Entry point: defines the custom elements; <sb-app> in index.html starts.
import './app.js';
