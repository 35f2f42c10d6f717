import { fail, ok, type Result } from '../result.js';
import { compileModel } from './compiled-model.js';
import { importLightgbm } from './import-lightgbm.js';
import { importXgboostJson, parseXgboostJson } from './import-xgboost.js';
import { MODEL_FORMAT, type ModelDocument } from './model-document.js';

/**
 * What a model file cannot say for itself. XGBoost's JSON keeps category codes but not category
 * names, and a model trained on a bare matrix has no feature names: the caller supplies them here.
 */
export interface ImportOptions {
  /**
   * One name per model input column, in column order, for a file that has none (an XGBoost model
   * without `feature_names`, a LightGBM model with its automatic `Column_<i>` names). Names the
   * file carries are kept: they are the ones the model was trained with.
   */
  featureNames?: string[];
  /**
   * For categorical features, by (final) feature name: the category names in code order, so the
   * name at index k is the value the library saw as code k (a pandas column's `cat.categories`).
   * Without it, XGBoost categories are named `String(code)`, and LightGBM's come from the file's
   * `pandas_categorical` or, failing that, are `String(code)` too.
   */
  categories?: Record<string, string[]>;
}

const invalid = (message: string): Result<ModelDocument> => fail({ code: 'invalid_model', message });

/**
 * Reads a model file of any format Warden knows: its own JSON (`format: "warden-gbdt"`), XGBoost's
 * JSON model (`save_model('model.json')`), or LightGBM's text model (`save_model('model.txt')`).
 * Every result has been through compileModel, so what comes back is ready to store and score.
 */
export function importModel(text: string, options: ImportOptions = {}): Result<ModelDocument> {
  if (typeof text !== 'string') return invalid('a model file is text');
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const head = body.trimStart();
  if (head === '') return invalid('the model file is empty');
  if (head.startsWith('{')) {
    const parsed = parseXgboostJson(body);
    if (!parsed.ok) return parsed;
    const json = parsed.value;
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      return invalid('a JSON model is an object');
    if ('format' in json) {
      if (json.format !== MODEL_FORMAT)
        return invalid(`format: "${String(json.format)}" is not a model format Warden reads`);
      const compiled = compileModel(json);
      return compiled.ok ? ok(compiled.value.document) : compiled;
    }
    if ('learner' in json) return importXgboostJson(json, options);
    if ('tree_info' in json)
      return invalid("this is LightGBM's JSON dump (dump_model): import the text model (save_model) instead");
    return invalid(
      'a JSON model is either Warden\'s (with "format": "warden-gbdt") or XGBoost\'s (with "learner")',
    );
  }
  if (/^tree\r?\n/.test(head) || /^version=v\d/m.test(head)) return importLightgbm(body, options);
  return invalid(
    "not a model file Warden reads: expected Warden's JSON model, XGBoost's JSON model (UBJSON and " +
      "the old binary format are not read) or LightGBM's text model",
  );
}
