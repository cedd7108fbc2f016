// How this repository's TypeScript becomes JavaScript outside `nest build`: one set of swc
// options for jest's transform (jest.config.js) and the Node module hooks (ts-hooks.mjs).
export const swcOptions = {
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};
