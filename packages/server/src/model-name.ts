/** The model-name rule lives in @rwseg/core (artifact/model-name.ts), so `rwseg export --name` applies the same one. */
export { assertSafeName, isSafeName } from '@rwseg/core/artifact';
