/** Android component names ("package/class"), in their long and short spellings. */

/** Expands "pkg/.Cls" to "pkg/pkg.Cls". */
export function fullComponent(component: string): string {
  const slash = component.indexOf('/');
  if (slash < 0) return component;
  const pkg = component.slice(0, slash);
  const cls = component.slice(slash + 1);
  return `${pkg}/${cls.startsWith('.') ? pkg + cls : cls}`;
}

/** Shortens "pkg/pkg.Cls" to "pkg/.Cls" as Android prints it. */
export function shortComponent(component: string): string {
  const slash = component.indexOf('/');
  if (slash < 0) return component;
  const pkg = component.slice(0, slash);
  const cls = component.slice(slash + 1);
  return cls.startsWith(`${pkg}.`) ? `${pkg}/${cls.slice(pkg.length)}` : component;
}
