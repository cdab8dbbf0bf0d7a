// Template units and their instances (src/core/unit-name.ts): the one place svcctl tells them apart.
import fc from 'fast-check';
import { isTemplateName, templateOfInstance } from '../../src/core/unit-name.js';

test('templates are x@.TYPE; instances and plain units are not', () => {
  expect(['svcctl-alert@.service', 'getty@.service', 'a@.timer'].map(isTemplateName)).toEqual([true, true, true]);
  expect(['svcctl-alert@foo.service.service', 'cleanup-blocking-coordination.service', 'x@.service.d', '@', 'a@@.service', '@.service'].map(isTemplateName)).toEqual([false, false, false, false, false, false]);
});

test("an instance's template: the part before the first @, and the unit type", () => {
  expect(templateOfInstance('svcctl-alert@cleanup-blocking-coordination.service.service')).toBe('svcctl-alert@.service');
  expect(templateOfInstance('svcctl-alert-resolved@a@b.service')).toBe('svcctl-alert-resolved@.service');
  expect(templateOfInstance('getty@tty1.service')).toBe('getty@.service');
  for (const none of ['cleanup-blocking-coordination.service', 'svcctl-alert@.service', '@x.service', 'x@service']) expect(templateOfInstance(none)).toBeUndefined();
});

test('for any prefix and instance, the instance of a template comes back to that template', () => {
  const word = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
  const instance = fc.stringMatching(/^[A-Za-z0-9:_.@\\-]{1,40}$/).filter((s) => !s.startsWith('.'));
  fc.assert(
    fc.property(word, instance, fc.constantFrom('service', 'timer', 'socket'), (prefix, inst, type) => {
      const template = `${prefix}@.${type}`;
      expect(isTemplateName(template)).toBe(true);
      const name = template.replace('@.', `@${inst}.`);
      expect(isTemplateName(name)).toBe(false);
      expect(templateOfInstance(name)).toBe(template);
    }),
  );
});
