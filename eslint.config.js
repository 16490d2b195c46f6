// ESLint flat config. Besides typescript-eslint's strict rules it enforces the import direction of the
// architecture (docs/ARCHITECTURE.md) with a small local rule: each file belongs to an *area* by path, and
// an area may import only the areas listed for it. Bare package imports are checked too ('electron' only in
// main/preload, Node built-ins never in renderer or contract).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import path from 'node:path';
import { builtinModules } from 'node:module';

const root = path.dirname(new URL(import.meta.url).pathname);

/** Ordered: first prefix that matches wins. */
const AREAS = [
  ['electron/contract/', 'contract'],
  ['electron/engine/', 'engine'],
  ['electron/agent/', 'agent'],
  ['electron/cli/', 'cli'],
  ['electron/main/', 'main'],
  ['electron/preload/', 'preload'],
  ['renderer/', 'renderer'],
  ['native-bridge/', 'native-bridge'],
  ['test/', 'test'],
  ['bench/', 'bench'],
  ['scripts/', 'scripts'],
];

/** area → areas it may import (its own is always allowed). Absent = unrestricted (tests, benches, scripts). */
const MAY_IMPORT = {
  contract: [],
  'native-bridge': [],
  engine: ['contract', 'native-bridge'],
  agent: ['engine', 'contract', 'native-bridge'],
  cli: ['agent', 'engine', 'contract', 'native-bridge'],
  main: ['contract'],
  preload: ['contract'],
  renderer: ['contract'],
};

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function areaOf(absPath) {
  const rel = path.relative(root, absPath).split(path.sep).join('/');
  for (const [prefix, area] of AREAS) if (rel.startsWith(prefix)) return area;
  return 'root';
}

const importDirection = {
  meta: {
    type: 'problem',
    schema: [],
    messages: { bad: '{{from}} may not import {{what}} ({{why}}); see docs/ARCHITECTURE.md' },
  },
  create(context) {
    const from = areaOf(context.filename);
    const allowed = MAY_IMPORT[from];
    if (!allowed) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      const report = (what, why) => context.report({ node, messageId: 'bad', data: { from, what, why } });
      if (spec.startsWith('.')) {
        const target = areaOf(path.resolve(path.dirname(context.filename), spec));
        if (target !== from && !allowed.includes(target))
          report(target, `allowed: ${allowed.join(', ') || 'nothing'}`);
        return;
      }
      if (spec === 'electron' || spec.startsWith('electron/')) {
        if (from !== 'main' && from !== 'preload')
          report("'electron'", 'only electron/main and electron/preload run inside Electron');
        return;
      }
      if ((from === 'renderer' || from === 'contract') && NODE_BUILTINS.has(spec)) {
        report(spec, 'runs in a browser');
      }
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '**/*.c'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
      globals: { ...globals.node },
    },
    plugins: { tierscope: { rules: { 'import-direction': importDirection } } },
    rules: {
      'tierscope/import-direction': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
