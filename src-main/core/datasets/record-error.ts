/** Why one record cannot be imported; names the field. */
export class RecordError extends Error {}
