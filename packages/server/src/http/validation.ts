import { Ajv, type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { errorItem, type ApiErrorItem } from './envelope.js';

// Bodies are checked as sent: no type coercion (a "3600" string is a wrong type, not a
// number) and no silent removal of unknown fields. Query strings arrive as text, so there
// scalars are coerced ("10" → 10, "true" → true), but a repeated key stays an error.
const bodyAjv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: true });
const textAjv = new Ajv({ allErrors: false, coerceTypes: true, removeAdditional: false, useDefaults: true, strict: true });

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema) as ReturnType<FastifySchemaCompiler<object>>;

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);
const typeName = (type: unknown) => (Array.isArray(type) ? type.filter((t) => t !== 'null').join(' or ') : String(type));

/** The first schema violation as an envelope item naming the parameter at fault. */
export function validationItem(errors: ErrorObject[], context: string | undefined): ApiErrorItem {
  const error = errors[0];
  const where = context === 'querystring' ? 'query parameter' : 'parameter';
  if (!error) return errorItem('request_invalid', 'is invalid', 'The request is invalid.');
  const path = error.instancePath.split('/').filter(Boolean);
  const param = path[0];
  switch (error.keyword) {
    case 'required': {
      const missing = String(error.params.missingProperty);
      return errorItem('form_param_missing', 'is missing', `The ${where} \`${missing}\` is required.`, missing);
    }
    case 'additionalProperties': {
      const extra = String(error.params.additionalProperty);
      return errorItem('form_param_unknown', 'is unknown', `\`${extra}\` is not a recognised ${where}.`, extra);
    }
    case 'type':
      if (param === undefined) {
        return errorItem('request_body_invalid', 'is invalid', 'The request body must be a JSON object.');
      }
      return errorItem(
        'form_param_format_invalid',
        'is invalid',
        `The ${where} \`${path.join('.')}\` must be ${article(typeName(error.params.type))}.`,
        param,
      );
    default:
      return errorItem(
        'form_param_value_invalid',
        'is invalid',
        `The ${where} \`${path.join('.') || context}\` ${error.message ?? 'is invalid'}.`,
        param,
      );
  }
}
