import { Ajv, type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { errorItem, type ApiErrorItem } from './envelope.js';

// Bodies are checked as sent: no type coercion (a "3600" string is a wrong type, not a
// number) and no silent removal of unknown fields. Query strings arrive as text: plain
// decimal integers and true/false are converted where the schema asks for them (below),
// everything else ("1.5", "1e400", "yes", a repeated key) stays text and fails the type.
// Ajv's own coercion is not used: it turns "1e400" into Infinity and passes it.
const bodyAjv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: true });
const textAjv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: true });

const DECIMAL_INTEGER = /^-?\d+$/;

type SchemaWithProperties = { properties?: Record<string, { type?: unknown }> };

function convertQueryText(schema: SchemaWithProperties, data: unknown): void {
  if (data === null || typeof data !== 'object') return;
  const values = data as Record<string, unknown>;
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const value = values[name];
    if (typeof value !== 'string') continue;
    if (property.type === 'integer' && DECIMAL_INTEGER.test(value) && Number.isFinite(Number(value))) values[name] = Number(value);
    else if (property.type === 'boolean' && (value === 'true' || value === 'false')) values[name] = value === 'true';
  }
}

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return bodyAjv.compile(schema) as ReturnType<FastifySchemaCompiler<object>>;
  const validate = textAjv.compile(schema);
  const checked = (data: unknown) => {
    convertQueryText(schema as SchemaWithProperties, data);
    const ok = validate(data);
    checked.errors = validate.errors;
    return ok;
  };
  checked.errors = null as typeof validate.errors;
  return checked as unknown as ReturnType<FastifySchemaCompiler<object>>;
};

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
