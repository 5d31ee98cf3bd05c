declare module 'append-field' {
  /** Sets `name` (PHP-style, e.g. `a[0][b]`, `a[]`) on a null-prototype tree, as multer does. */
  export default function appendField(store: object, name: string, value: string): void;
}
