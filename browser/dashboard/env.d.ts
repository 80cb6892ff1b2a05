// Stylesheets are bundled by esbuild into browser/build/dashboard.css.
declare module '*.css';
