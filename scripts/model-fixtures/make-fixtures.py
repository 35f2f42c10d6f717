"""Writes the model fixtures the XGBoost and LightGBM importer tests compare against.

Each model is trained on a small synthetic fraud-like dataset (numeric features with missing
values, a feature that is never missing in training, a boolean, two categorical features), saved
in its library's own format, and scored by the library itself on fixed inputs: random rows, rows
with missing values and an unseen category, and rows whose values sit exactly on (or one ulp
beside) the model's split thresholds, where `<` versus `<=` and float32 rounding show.

The libraries are needed only here, never at runtime. The committed fixtures were made with
Debian 12's XGBoost 1.7.4 (apt-get install python3-xgboost python3-pandas) and LightGBM 4.7.0
from its wheel, in a virtualenv that sees the system packages:

    /usr/bin/python3 -m venv --system-site-packages /tmp/fixvenv
    /tmp/fixvenv/bin/pip install lightgbm==4.7.0
    /tmp/fixvenv/bin/python scripts/model-fixtures/make-fixtures.py [output-directory]

Every run with the same library versions writes the same files (seeds are fixed).
Each `<name>.cases.json` holds the inputs as Warden sees them (numbers, booleans, category
names; null for missing) in `features` order, and the library's raw margins and probabilities.
"""

import json
import math
import os
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), '..', '..', 'packages', 'engine', 'test-fixtures', 'models')

COUNTRIES = ['US', 'GB', 'FR', 'DE', 'NG', 'BR', 'IN', 'CN', 'RU', 'ES', 'IT', 'CA']
OSES = ['ios', 'android', 'windows', 'macos']
NUMERIC = ['payment.amount', 'velocity.card.declined_1h', 'account.age_days', 'risk.delta']
BOOLEAN = 'device.is_new'
CATEGORICAL = ['ip.country', 'device.os']
FEATURES = NUMERIC + [BOOLEAN] + CATEGORICAL


def frame(rng, n, missing=True):
    amount = rng.lognormal(3.5, 1.2, n)
    declined = rng.poisson(0.6, n).astype(np.float64)
    age = np.round(rng.uniform(0, 2000, n), 1)
    delta = np.where(rng.random(n) < 0.3, 0.0, rng.normal(0, 1, n))
    is_new = (rng.random(n) < 0.3).astype(np.float64)
    country = rng.choice(COUNTRIES, n, p=np.array([30, 15, 10, 10, 5, 6, 8, 5, 3, 4, 2, 2]) / 100)
    os_ = rng.choice(OSES, n)
    df = pd.DataFrame({
        'payment.amount': amount,
        'velocity.card.declined_1h': declined,
        'account.age_days': age,
        'risk.delta': delta,
        'device.is_new': is_new,
        'ip.country': pd.Categorical(country, categories=COUNTRIES),
        'device.os': pd.Categorical(os_, categories=OSES),
    })
    if missing:
        # Only these three are ever missing in training; the others meet NaN first in the test rows.
        df.loc[rng.random(n) < 0.08, 'payment.amount'] = np.nan
        df.loc[rng.random(n) < 0.05, 'velocity.card.declined_1h'] = np.nan
        df.loc[rng.random(n) < 0.05, 'ip.country'] = np.nan
    return df


def labels(rng, df):
    risky = {'NG': 1.2, 'RU': 1.0, 'CN': 0.6, 'BR': 0.4}
    z = (-2.5
         + 0.45 * (np.log(df['payment.amount'].fillna(300.0)) - 3.5)
         + 0.8 * df['payment.amount'].isna()
         + 0.9 * df['velocity.card.declined_1h'].fillna(2.0)
         - 0.0008 * df['account.age_days']
         + 0.5 * df['risk.delta']
         + 0.7 * df['device.is_new']
         + df['ip.country'].map(risky).astype(float).fillna(0.0)
         + 0.8 * df['ip.country'].isna()
         + 0.3 * (df['device.os'] == 'windows'))
    return (rng.random(len(df)) < 1 / (1 + np.exp(-z))).astype(int)


def edge_rows(rng, thresholds, count, neighbours):
    """Rows whose numeric values sit on split thresholds or just beside them."""
    df = frame(rng, count)
    pairs = [(f, t) for f, ts in thresholds.items() for t in ts if f in NUMERIC]
    for i in range(count):
        for f, t in [pairs[j] for j in rng.choice(len(pairs), 3, replace=False)]:
            df.at[i, f] = neighbours(t)[i % 3]
    return df


def special_rows():
    """Rows with every kind of missing value, an unseen category, and zeros."""
    rows = []
    base = {'payment.amount': 40.0, 'velocity.card.declined_1h': 1.0, 'account.age_days': 300.0,
            'risk.delta': 0.2, 'device.is_new': 0.0, 'ip.country': 'GB', 'device.os': 'ios'}
    for f in FEATURES:
        rows.append({**base, f: None})
    rows.append({f: None for f in FEATURES})
    rows.append({**base, 'ip.country': 'ZZ'})
    rows.append({**base, 'ip.country': 'ZZ', 'device.os': 'beos'})
    rows.append({**base, 'risk.delta': 0.0, 'account.age_days': 0.0, 'velocity.card.declined_1h': 0.0})
    rows.append({**base, 'risk.delta': -0.0, 'payment.amount': 0.0})
    for c in COUNTRIES:
        rows.append({**base, 'ip.country': c, 'device.os': OSES[len(rows) % 4]})
    return rows


def to_frame(rows):
    df = pd.DataFrame(rows, columns=FEATURES)
    for f in NUMERIC + [BOOLEAN]:
        df[f] = df[f].astype(np.float64)
    df['ip.country'] = pd.Categorical(df['ip.country'], categories=COUNTRIES)
    df['device.os'] = pd.Categorical(df['device.os'], categories=OSES)
    return df


def raw_rows(df, unseen):
    """Inputs as Warden sees them: numbers, booleans, category strings; missing as null."""
    out = []
    for i in range(len(df)):
        row = []
        for f in FEATURES:
            v = df.at[i, f]
            if f in CATEGORICAL:
                v = unseen.get((i, f), v)
                row.append(None if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v))
            elif f == BOOLEAN:
                row.append(None if math.isnan(v) else bool(v))
            else:
                row.append(None if math.isnan(v) else float(v))
        out.append(row)
    return out


def inputs(rng, thresholds, neighbours, count):
    special = special_rows()
    unseen = {}
    for i, r in enumerate(special):
        for f in CATEGORICAL:
            if r[f] is not None and r[f] not in (COUNTRIES if f == 'ip.country' else OSES):
                unseen[(i, f)] = r[f]
    random_count = (count - len(special)) // 2
    parts = [to_frame(special), frame(rng, random_count),
             edge_rows(rng, thresholds, count - len(special) - random_count, neighbours)]
    df = pd.concat(parts, ignore_index=True)
    return df, raw_rows(df, unseen)


def write_cases(name, library, version, model_file, df_raw, margins, probabilities, extra=None):
    doc = {
        'library': library,
        'version': version,
        'model': model_file,
        'features': FEATURES,
        'rows': df_raw,
        'margins': [float(m) for m in margins],
        'probabilities': [float(p) for p in probabilities],
    }
    if extra:
        doc.update(extra)
    with open(os.path.join(OUT, name), 'w') as fh:
        json.dump(doc, fh, separators=(',', ':'))


def f32_neighbours(t):
    t32 = np.float32(t)
    # The last is below t as a double but rounds to t in float32, so XGBoost does not send it left.
    return [float(t32), float(np.nextafter(t32, np.float32(-np.inf))), math.nextafter(float(t32), -math.inf)]


def f64_neighbours(t):
    return [t, math.nextafter(t, -math.inf), math.nextafter(t, math.inf)]


def xgb_thresholds(booster):
    model = json.loads(booster.save_raw('json').decode())
    gb = model['learner']['gradient_booster']
    trees = (gb.get('gbtree', gb))['model']['trees']
    names = model['learner']['feature_names']
    found = {}
    for tree in trees:
        for j, left in enumerate(tree['left_children']):
            if left != -1 and tree['split_type'][j] == 0:
                found.setdefault(names[tree['split_indices'][j]], set()).add(tree['split_conditions'][j])
    return {f: sorted(ts) for f, ts in found.items()}


def lgb_thresholds(booster):
    found = {}
    dump = booster.dump_model()
    names = dump['feature_names']

    def walk(node):
        if 'split_feature' in node:
            if node['decision_type'] == '<=':
                found.setdefault(names[node['split_feature']], set()).add(node['threshold'])
            walk(node['left_child'])
            walk(node['right_child'])

    for t in dump['tree_info']:
        walk(t['tree_structure'])
    return {f: sorted(ts) for f, ts in found.items()}


def xgboost_fixture(name, params, rounds, count, seed):
    rng = np.random.default_rng(seed)
    train = frame(rng, 4000)
    y = labels(rng, train)
    dtrain = xgb.DMatrix(train, label=y, enable_categorical=True)
    booster = xgb.train(params, dtrain, rounds)
    booster.save_model(os.path.join(OUT, f'{name}.json'))
    df, raw = inputs(rng, xgb_thresholds(booster), f32_neighbours, count)
    dtest = xgb.DMatrix(df, enable_categorical=True)
    margins = booster.predict(dtest, output_margin=True)
    probs = booster.predict(dtest)
    write_cases(f'{name}.cases.json', 'xgboost', xgb.__version__, f'{name}.json', raw, margins, probs,
                {'options': {'categories': {'ip.country': COUNTRIES, 'device.os': OSES}}})


def lightgbm_fixture(name, params, rounds, count, seed, sigmoid=1.0):
    rng = np.random.default_rng(seed)
    train = frame(rng, 4000)
    y = labels(rng, train)
    booster = lgb.train({'objective': 'binary', 'verbose': -1, 'seed': seed, **params},
                        lgb.Dataset(train, label=y, categorical_feature=CATEGORICAL), rounds)
    booster.save_model(os.path.join(OUT, f'{name}.txt'))
    df, raw = inputs(rng, lgb_thresholds(booster), f64_neighbours, count)
    margins = booster.predict(df, raw_score=True)
    probs = booster.predict(df)
    extra = {'sigmoid': sigmoid} if sigmoid != 1.0 else None
    write_cases(f'{name}.cases.json', 'lightgbm', lgb.__version__, f'{name}.txt', raw, margins, probs, extra)


def lightgbm_matrix_fixture(name, seed):
    """A model trained on a bare matrix: automatic Column_<i> names, integer category codes with no
    pandas_categorical, and zero_as_missing, so zero and NaN are both missing."""
    rng = np.random.default_rng(seed)
    n = 3000
    x = np.column_stack([rng.normal(0, 1, n), rng.integers(0, 6, n), rng.uniform(-1, 1, n)])
    x[rng.random(n) < 0.15, 0] = 0.0
    x[rng.random(n) < 0.05, 0] = np.nan
    z = 1.5 * x[:, 0] - 0.8 * np.nan_to_num(x[:, 0] == 0) + np.isin(x[:, 1], [1, 4]) * 1.2 + x[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-np.nan_to_num(z, nan=1.0)))).astype(int)
    booster = lgb.train({'objective': 'binary', 'verbose': -1, 'seed': seed, 'num_leaves': 6,
                         'learning_rate': 0.3, 'zero_as_missing': True, 'min_data_per_group': 20},
                        lgb.Dataset(x, label=y, categorical_feature=[1]), 6)
    booster.save_model(os.path.join(OUT, f'{name}.txt'))
    thresholds = [t for ts in lgb_thresholds(booster).values() for t in ts]
    rows = [[0.0, 1.0, 0.0], [-0.0, 4.0, 0.5], [np.nan, 1.0, np.nan], [1e-36, 2.0, -1e-36],
            [0.3, np.nan, 0.2], [0.3, 9.0, 0.2], [-1.2, 5.0, 0.9]]
    for t in thresholds:
        for v in f64_neighbours(t):
            rows.append([v, float(rng.integers(0, 6)), v])
    rows += [[float(rng.normal()), float(rng.integers(0, 7)), float(rng.uniform(-1, 1))] for _ in range(30)]
    x_test = np.array(rows, dtype=np.float64)
    margins = booster.predict(x_test, raw_score=True)
    probs = booster.predict(x_test)
    raw = [[None if math.isnan(r[0]) else r[0], None if math.isnan(r[1]) else str(int(r[1])),
            None if math.isnan(r[2]) else r[2]] for r in rows]
    names = ['risk.delta', 'merchant.category', 'risk.other']
    doc = {'library': 'lightgbm', 'version': lgb.__version__, 'model': f'{name}.txt', 'features': names,
           'options': {'featureNames': names}, 'rows': raw, 'margins': [float(m) for m in margins],
           'probabilities': [float(p) for p in probs]}
    with open(os.path.join(OUT, f'{name}.cases.json'), 'w') as fh:
        json.dump(doc, fh, separators=(',', ':'))


def main():
    os.makedirs(OUT, exist_ok=True)
    xgboost_fixture('xgboost-binary', {
        'objective': 'binary:logistic', 'tree_method': 'hist', 'max_depth': 4, 'eta': 0.3,
        'max_cat_to_onehot': 5, 'seed': 1}, 30, 200, 1)
    xgboost_fixture('xgboost-dart', {
        'objective': 'binary:logistic', 'booster': 'dart', 'rate_drop': 0.3, 'skip_drop': 0.0,
        'tree_method': 'hist', 'max_depth': 3, 'eta': 0.3, 'seed': 2}, 8, 60, 2)
    lightgbm_fixture('lightgbm-binary', {
        'num_leaves': 12, 'max_depth': 5, 'learning_rate': 0.2, 'min_data_in_leaf': 20,
        'min_data_per_group': 20, 'cat_smooth': 5}, 30, 200, 3)
    lightgbm_fixture('lightgbm-sigmoid', {
        'num_leaves': 4, 'learning_rate': 0.3, 'sigmoid': 2.0}, 5, 60, 4, sigmoid=2.0)
    lightgbm_matrix_fixture('lightgbm-matrix', 5)


if __name__ == '__main__':
    main()
