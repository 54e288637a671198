"""The code behind each page, and a notebook that reproduces a training run with TensorFlow Hub alone.

One place for the code templates: the pages' "The code" expanders and the
downloadable .ipynb are built from the same functions, so what a student reads
is what the notebook runs. The code imports ``tensorflow_hub`` and ``tf_keras``,
never ``hubdemo``, and repeats the app's steps exactly (the same photos, the
same split, the same pixels, the same head), so the notebook's validation
accuracy matches the app's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from hubdemo import archives, bundled, datasets, images, models, paths, projection
from hubdemo.errors import HubDemoError
from hubdemo.runs import TrainConfig

# Each bundled model's published twin on TF Hub: the same network and ImageNet weights, for Colab.
TFHUB_TWINS = {bundled.handle(name, variant): f"https://tfhub.dev/tensorflow/efficientnet/lite{name[-1]}/{path}/2"
               for name in bundled.NAMES
               for variant, path in (("feature_vector", "feature-vector"), ("classification", "classification"))}


def _missing_folder_code(data_dir: Path) -> str:
    flowers = paths.cache_dir() / "datasets" / "flower_photos"
    if data_dir == flowers or flowers in data_dir.parents:  # TF Flowers, downloaded by the app.
        return f'''if not DATA_DIR.is_dir():  # Another computer, or Colab: the tutorial's photos, from their address.
    DATA_DIR = pathlib.Path(tf_keras.utils.get_file("flower_photos", origin={datasets.FLOWERS_URL!r}, untar=True))'''
    return '''if not DATA_DIR.is_dir():
    raise FileNotFoundError(f"No folder at {DATA_DIR}: the photos are on the computer the app ran on. Copy them "
                            "here, one subfolder per class (photos added in the app's browser: Build your own, "
                            "Download this dataset as .zip), and set DATA_DIR to their folder.")'''


def handle_lines(handle: str) -> str:
    """Python that sets ``HANDLE``: the model's folder on this computer where it exists, its TF Hub URL otherwise."""
    if bundled.is_bundled(handle):
        variant = handle.rpartition("/")[2]
        folder = bundled.build_dir(bundled.network(handle)) / variant
        return (f'LOCAL_MODEL = "{folder}"  # Built by hubdemo from the bundled weights.\n'
                f'HANDLE = LOCAL_MODEL if os.path.isdir(LOCAL_MODEL) else "{TFHUB_TWINS[handle]}"')
    return f"HANDLE = {handle!r}"


SETUP = '''import os
os.environ["TF_USE_LEGACY_KERAS"] = "1"  # hub.KerasLayer is a Keras 2 layer: TensorFlow must use tf_keras.
import pathlib
import re

import numpy as np
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras
from PIL import Image, ImageOps

try:
    import pillow_heif  # Phones' HEIC photos (pip install pillow-heif): the app reads them too.
    pillow_heif.register_heif_opener()
except ImportError:
    pass'''
from hubdemo.i18n import _

LOAD_IMAGE = '''def load(path, size):
    """The whole photo, upright, squeezed to size×size, as floats in [0, 1]: what the model sees."""
    image = Image.open(path)
    if image.format == "JPEG":
        image.draft("RGB", (size, size))  # Decode a large JPEG at a smaller scale: much faster, same result.
    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")  # Transparency is laid on white.
        image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image)
    pixels = np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR))
    return pixels.astype(np.float32) / np.float32(255)'''


def dataset_code(data_dir: Path) -> str:
    """Read a folder with one subfolder per class, skipping what the app skips (``datasets.load_folder``).

    The folder is the one the app read, on the app's computer. Run elsewhere (a student's laptop in a
    classroom, Colab), the tutorial's flowers come from their address again; any other folder is named in
    a sentence that says what to do, not left to fail deep inside a loop.
    """
    return f'''DATA_DIR = pathlib.Path({str(data_dir)!r})  # The folder the app read.
{_missing_folder_code(data_dir)}
JUNK_DIRS = {sorted(archives.JUNK_DIRS)!r}
JUNK_NAMES = {sorted(archives.JUNK_NAMES)!r}


def is_junk(relative):
    parts = relative.parts
    return any(p in JUNK_DIRS for p in parts[:-1]) or parts[-1] in JUNK_NAMES or parts[-1].startswith(".")


IMAGE_SUFFIXES = set(Image.registered_extensions())
IMAGE_MAGIC = {datasets.IMAGE_MAGIC!r}


def is_photo(path):
    try:
        if path.suffix.lower() not in IMAGE_SUFFIXES:  # Surely no photo unless it starts as one: no need to open it.
            with open(path, "rb") as f:
                head = f.read(12)
            if not (head.startswith(IMAGE_MAGIC) or head[4:8] == b"ftyp"):
                return False
        with Image.open(path) as image:
            width, height = image.size
        return path.stat().st_size > 0 and width * height <= {images.MAX_PIXELS}
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


class_names = sorted(p.name for p in DATA_DIR.iterdir() if p.is_dir() and p.name not in JUNK_NAMES
                     and not p.name.startswith("."))
files, labels = [], []
for label, name in enumerate(class_names):
    for path in sorted((DATA_DIR / name).rglob("*")):
        if path.is_file() and not is_junk(path.relative_to(DATA_DIR)) and is_photo(path):
            files.append(path)
            labels.append(label)
labels = np.array(labels)
print(f"{{len(files)}} photos in {{len(class_names)}} classes: {{', '.join(class_names)}}")'''


SPLIT = '''# A stratified split: every class keeps at least one photo on each side. Photos recorded together from
# live video (named ...live-<time>-<n>) are near-copies: each recording stays whole on one side.
def group(i):
    recorded = re.search(r"(live-\\d+)-\\d+$", files[i].stem)
    return recorded.group(1) if recorded else i


rng = np.random.default_rng(SEED)
train_idx, val_idx = [], []
for label in range(len(class_names)):
    members = rng.permutation(np.flatnonzero(labels == label))
    n_val = min(max(1, round(len(members) * VALIDATION_SPLIT)), len(members) - 1)
    groups = {}
    for i in members:
        groups.setdefault(group(i), []).append(i)
    held = []
    for photos in groups.values():  # Whole groups, while they bring the count closer to n_val.
        if len(held) + len(photos) / 2 < n_val and len(held) + len(photos) < len(members):
            held += photos
    if not held:  # Only recordings, each too big: the smallest that leaves one to train on.
        fits = [photos for photos in groups.values() if len(photos) < len(members)]
        held = min(fits, key=len) if fits else list(members[:n_val])
    val_idx += held
    train_idx += [i for i in members if i not in held]
train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)
print(f"{len(train_idx)} photos to train on, {len(val_idx)} held back for validation")'''


def settings_code(handle: str, config: TrainConfig, image_size: int) -> str:
    return (f"{handle_lines(handle)}\n"
            f"IMAGE_SIZE = {image_size}\n"
            f"EPOCHS = {config.epochs}\n"
            f"BATCH_SIZE = {config.batch_size}\n"
            f"LEARNING_RATE = {config.learning_rate!r}\n"
            f"VALIDATION_SPLIT = {config.validation_split!r}\n"
            f"SEED = {config.seed}\n"
            f"DROPOUT = {config.dropout!r}")


HEAD_ON_FEATURES = '''# The hub layer turns each photo into its features once; only the new last layer trains on them.
feature_layer = hub.KerasLayer(HANDLE, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), trainable=False)
features = np.concatenate([feature_layer(np.stack([load(f, IMAGE_SIZE) for f in files[i:i + 32]])).numpy()
                           for i in range(0, len(files), 32)])
tf_keras.utils.set_random_seed(SEED)  # Same seed, same starting weights, same order of photos: same result.
head = tf_keras.Sequential([tf_keras.Input((features.shape[1],))]
                           + ([tf_keras.layers.Dropout(DROPOUT, seed=SEED)] if DROPOUT else [])
                           + [tf_keras.layers.Dense(len(class_names), activation="softmax",
                                                    kernel_initializer=tf_keras.initializers.GlorotUniform(seed=SEED))])
head.compile(tf_keras.optimizers.Adam(LEARNING_RATE), "sparse_categorical_crossentropy", ["accuracy"])
train_ds = (tf.data.Dataset.from_tensor_slices((features[train_idx], labels[train_idx]))
            .shuffle(len(train_idx), seed=SEED, reshuffle_each_iteration=True).batch(BATCH_SIZE))
history = head.fit(train_ds, epochs=EPOCHS, validation_data=(features[val_idx], labels[val_idx]), verbose=2)'''


def whole_network_code(config: TrainConfig) -> str:
    """Augmentation or fine-tuning: the whole network runs on the photos every epoch."""
    augment = ('''augment = tf_keras.Sequential([tf_keras.layers.RandomFlip("horizontal", seed=SEED),
                               tf_keras.layers.RandomRotation(0.1, seed=SEED),
                               tf_keras.layers.RandomZoom(0.1, seed=SEED)])
''' if config.augment else "augment = None\n")
    return f'''# The whole network runs on every photo, every epoch{" (fine-tuning: every layer learns)" if config.fine_tune else ""}.
feature_layer = hub.KerasLayer(HANDLE, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), trainable={config.fine_tune})
tf_keras.utils.set_random_seed(SEED)
{augment}head = tf_keras.Sequential([tf_keras.Input((feature_layer.compute_output_shape((None, IMAGE_SIZE, IMAGE_SIZE, 3))[-1],))]
                           + ([tf_keras.layers.Dropout(DROPOUT, seed=SEED)] if DROPOUT else [])
                           + [tf_keras.layers.Dense(len(class_names), activation="softmax",
                                                    kernel_initializer=tf_keras.initializers.GlorotUniform(seed=SEED))])
model = tf_keras.Sequential([tf_keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3)), feature_layer, *head.layers])
model.compile(tf_keras.optimizers.Adam(LEARNING_RATE), "sparse_categorical_crossentropy", ["accuracy"])
pixels = np.stack([(load(f, IMAGE_SIZE) * 255).round().astype(np.uint8) for f in files])  # uint8: a quarter the memory.


def batches(indices, shuffle):
    ds = tf.data.Dataset.from_tensor_slices((pixels[indices], labels[indices]))
    if shuffle:
        ds = ds.shuffle(len(indices), seed=SEED, reshuffle_each_iteration=True)
    ds = ds.batch(BATCH_SIZE).map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y))
    return ds.map(lambda x, y: (augment(x, training=True), y)) if shuffle and augment is not None else ds


history = model.fit(batches(train_idx, True), epochs=EPOCHS, validation_data=batches(val_idx, False), verbose=2)
features = None'''


CURVES = '''import matplotlib.pyplot as plt

fig, (loss, accuracy) = plt.subplots(1, 2, figsize=(11, 3.5))
for axis, metric in ((loss, "loss"), (accuracy, "accuracy")):
    axis.plot(range(1, EPOCHS + 1)[:len(history.history[metric])], history.history[metric], label="training")
    axis.plot(range(1, EPOCHS + 1)[:len(history.history[metric])], history.history["val_" + metric],
              label="validation", marker="o")
    axis.set_xlabel("epoch")
    axis.set_title(metric)
    axis.legend()
plt.show()'''


EVALUATE = '''predict = (lambda idx: head.predict(features[idx], verbose=0)) if features is not None else \\
    (lambda idx: model.predict(np.stack([load(files[i], IMAGE_SIZE) for i in idx]), verbose=0))
val_probs = predict(val_idx)
predicted = val_probs.argmax(axis=1)
val_accuracy = float((predicted == labels[val_idx]).mean())
print(f"val_accuracy: {val_accuracy:.3f}")
confusion = np.zeros((len(class_names),) * 2, int)
np.add.at(confusion, (labels[val_idx], predicted), 1)
print("rows: true class, columns: predicted class")
for name, row in zip(class_names, confusion):
    print(f"{name:>15}", *(f"{n:4d}" for n in row))'''


EXPORT = '''# The tutorial's model: the hub layer, then the new layers; saved with the hub layer's weights inside.
OUT_DIR = pathlib.Path("exported_model")
export = model if features is None else tf_keras.Sequential(
    [tf_keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3)), feature_layer, *head.layers])
export.save(str(OUT_DIR))
(OUT_DIR / "labels.txt").write_text("\\n".join(class_names) + "\\n")
check = np.stack([load(files[i], IMAGE_SIZE) for i in val_idx[:32]])
reloaded = tf.saved_model.load(str(OUT_DIR))
difference = np.abs(reloaded(check, training=False).numpy() - export(check, training=False).numpy()).max()
print(f"saved to {OUT_DIR}; reloaded, largest difference in predictions: {difference}")'''


def training_cells(data_dir: Path, handle: str, config: TrainConfig, image_size: int | None = None,
                   title: str = "") -> list[tuple[str, str]]:
    """The cells of the training notebook: ``("markdown" | "code", source)``, in order.

    Raises:
        HubDemoError: a run from scratch, whose network is the app's own builder, not a TF Hub model.
    """
    image_size = image_size or models.declared_input_size(handle)
    if config.from_scratch:
        raise HubDemoError(_("A run from scratch builds its network with the app's own code, so its notebook "
                             "would need hubdemo. Notebooks reproduce transfer-learning runs."))
    # The prose is in the reader's language (the page's, or the terminal's); the code is Python's.
    path = _("a new last layer on cached features") if config.uses_cached_features else _("the whole network")
    return [
        ("markdown", "# {title}\n\n{about}".format(title=title or _("Transfer learning with TensorFlow Hub"), about=_(
            "This notebook reproduces a training run of the hubdemo app with TensorFlow Hub and tf_keras alone: "
            "the same photos, the same split, the same settings ({path}). Its last cell exports the model as the "
            "app does.").format(path=path))),
        ("code", SETUP),
        ("markdown", "## {}\n{}".format(_("Settings"), _("The model and the settings of the run."))),
        ("code", settings_code(handle, config, image_size)),
        ("markdown", "## {}\n{}".format(_("The photos"),
                                         _("One subfolder per class; files that are not photos are skipped."))),
        ("code", dataset_code(data_dir)),
        ("code", SPLIT),
        ("code", LOAD_IMAGE),
        ("markdown", "## " + _("Training")),
        ("code", HEAD_ON_FEATURES if config.uses_cached_features else whole_network_code(config)),
        ("code", CURVES),
        ("markdown", "## {}\n{}".format(_("How good is it?"), _("On the validation photos, which it never trained on."))),
        ("code", EVALUATE),
        ("markdown", "## " + _("Export")),
        ("code", EXPORT),
    ]


def training_code(data_dir: Path, handle: str, config: TrainConfig, image_size: int | None = None) -> str:
    """The notebook's code as one script, for a page's "The code" expander."""
    return "\n\n".join(source for kind, source in training_cells(data_dir, handle, config, image_size)
                       if kind == "code")


def training_notebook(data_dir: Path, handle: str, config: TrainConfig, image_size: int | None = None,
                      title: str = "") -> str:
    """The training notebook as .ipynb text (nbformat 4)."""
    import nbformat
    cells = [nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
             for kind, source in training_cells(data_dir, handle, config, image_size, title)]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def classify_code(handle: str, image_size: int) -> str:
    """Classify one photo with an ImageNet model from TF Hub, as the tutorial's first step."""
    return f'''import os
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np, tensorflow as tf, tensorflow_hub as hub, tf_keras
from PIL import Image

{handle_lines(handle)}
classifier = tf_keras.Sequential([hub.KerasLayer(HANDLE, input_shape=({image_size}, {image_size}, 3))])
image = Image.open("photo.jpg").convert("RGB").resize(({image_size}, {image_size}))
batch = np.asarray(image, dtype="float32")[np.newaxis] / 255.0
probabilities = tf.nn.softmax(classifier.predict(batch))[0]
print(np.argsort(probabilities)[::-1][:5])  # the five most likely class numbers'''


def grid_code(data_dir: Path, handle: str, image_size: int) -> str:
    """A batch of a dataset folder, each photo with the model's best guess, as the tutorial's grid."""
    return f'''{SETUP}
import matplotlib.pyplot as plt

{handle_lines(handle)}
IMAGE_SIZE = {image_size}
DATA_DIR = pathlib.Path({str(data_dir)!r})  # The folder the app read.
{_missing_folder_code(data_dir)}
files = sorted(p for p in DATA_DIR.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:30]


{LOAD_IMAGE}


classifier = tf_keras.Sequential([hub.KerasLayer(HANDLE, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3))])
batch = np.stack([load(f, IMAGE_SIZE) for f in files])
best = classifier.predict(batch).argmax(axis=1)  # A class number of ImageNet's 1,000 for each photo.
plt.figure(figsize=(10, 9))
for n, (image, label) in enumerate(zip(batch, best)):
    plt.subplot(6, 5, n + 1)
    plt.imshow(image)
    plt.title(str(label))
    plt.axis("off")
plt.show()'''


def _export_dir_line(folder: Path | None) -> str:
    if folder is None:
        return 'EXPORT_DIR = "exports/…"  # Not exported yet: press Export on the Train page, then put its folder here.'
    return f"EXPORT_DIR = {str(folder)!r}"


LOAD_EXPORT = '''model = tf.saved_model.load(EXPORT_DIR)  # The hub layer and your new last layer, weights inside.
model_classes = (pathlib.Path(EXPORT_DIR) / "labels.txt").read_text(encoding="utf-8").splitlines()'''


def your_model_code(folder: Path | None, image_size: int) -> str:
    """Your model outside the app: load its export (SavedModel + labels.txt) and classify a photo.

    ``folder`` is the export's folder, or None for a run not exported yet (the code says to export it).
    """
    return f'''import pathlib

import numpy as np
import tensorflow as tf
from PIL import Image

{_export_dir_line(folder)}
{LOAD_EXPORT}

image = Image.open("photo.jpg").convert("RGB").resize(({image_size}, {image_size}))
batch = np.asarray(image, dtype="float32")[np.newaxis] / 255.0
probabilities = model(batch, training=False).numpy()[0]  # One per class: the new last layer's softmax.
print(model_classes[probabilities.argmax()], f"{{probabilities.max():.0%}}")'''


def judge_code(data_dir: Path, folder: Path | None, image_size: int, validation_split: float | None,
               seed: int) -> str:
    """Your model's guesses on a dataset folder, right or wrong: on the photos it never trained on when known."""
    if validation_split:
        pool = (f"VALIDATION_SPLIT = {validation_split!r}\nSEED = {seed}\n\n{SPLIT}\n"
                "judged = val_idx  # The photos the model never trained on.")
    else:
        pool = "judged = np.arange(len(files))  # Every photo: which ones it trained on is not known."
    return f'''{SETUP}

{_export_dir_line(folder)}
IMAGE_SIZE = {image_size}
{LOAD_EXPORT}

{dataset_code(data_dir)}

{pool}


{LOAD_IMAGE}


probabilities = np.concatenate([model(np.stack([load(files[i], IMAGE_SIZE) for i in judged[j:j + 32]]),
                                      training=False).numpy() for j in range(0, len(judged), 32)])
guesses = [model_classes[k] for k in probabilities.argmax(axis=1)]  # Matched to the folders by name.
truths = [class_names[labels[i]] for i in judged]
right = np.array([guess == truth for guess, truth in zip(guesses, truths)])
print(f"accuracy: {{right.mean():.1%}} on {{len(judged)}} photos")
for i, guess, truth in list(zip(judged, guesses, truths))[:30]:  # The first 30, as the grid's first batch.
    print("✓" if guess == truth else "✗", files[i].name, guess, "" if guess == truth else f"(really {{truth}})")'''


def _probabilities_lines(handle: str | None, folder: Path | None) -> str:
    """Python that defines ``probabilities(batch)`` (a tensor, one row per image) for ImageNet's model or yours."""
    if handle is not None:
        return f'''{handle_lines(handle)}
model = hub.KerasLayer(HANDLE)
probabilities = lambda batch: tf.nn.softmax(model(batch))  # ImageNet's model gives scores (logits).
class_name = lambda c: f"ImageNet class {{c}}"'''
    return f'''{_export_dir_line(folder)}
{LOAD_EXPORT}
probabilities = lambda batch: model(batch, training=False)  # Your export ends in a softmax already.
class_name = lambda c: model_classes[c]'''


OCCLUSION = '''# Occlusion: grey one square at a time and see how much the answer's probability drops.
GRID = 14  # Squares per side.
edges = np.linspace(0, IMAGE_SIZE, GRID + 1).round().astype(int)
greyed = []
for row in range(GRID):
    for col in range(GRID):
        copy = image.copy()
        copy[edges[row]:edges[row + 1], edges[col]:edges[col + 1]] = 0.5  # Grey: nothing there, to the model.
        greyed.append(copy)
occluded = np.concatenate([probabilities(np.stack(greyed[i:i + 49])).numpy()[:, c] for i in range(0, len(greyed), 49)])
drops = np.maximum(np.log(p[c] + 1e-9) - np.log(occluded + 1e-9), 0).reshape(GRID, GRID)  # Rises count as nothing.
square_of = np.searchsorted(edges, np.arange(IMAGE_SIZE), side="right") - 1  # Each pixel's row (and column).
heat = drops[square_of][:, square_of]'''

INTEGRATED_GRADIENTS = '''# Integrated gradients: how each pixel pushes the answer up, along the way from a grey image to the photo.
from scipy.ndimage import gaussian_filter

STEPS = 24
baseline = np.full_like(image, 0.5)
path = tf.constant(baseline + np.linspace(0, 1, STEPS, dtype=np.float32)[:, None, None, None] * (image - baseline))
with tf.GradientTape() as tape:
    tape.watch(path)
    score = tf.math.log(probabilities(path)[:, c] + 1e-9)
gradients = tape.gradient(score, path).numpy().mean(axis=0)
heat = np.maximum(gaussian_filter(((image - baseline) * gradients).sum(axis=-1), 3.0), 0)  # Regions, not specks.'''


def heatmap_code(method: str, image_size: int, *, handle: str | None = None, folder: Path | None = None) -> str:
    """Where a model looks in ``photo.jpg``: occlusion or integrated gradients, ImageNet's model or your export.

    Grad-CAM reads the network's inner layers, which a TF Hub model does not show: the app rebuilds the
    network for it. Its code shows occlusion instead, the method that works with any model.
    """
    return f'''{SETUP}
import matplotlib.pyplot as plt

IMAGE_SIZE = {image_size}
{_probabilities_lines(handle, folder)}


{LOAD_IMAGE}


image = load("photo.jpg", IMAGE_SIZE)
p = probabilities(image[np.newaxis]).numpy()[0]
c = p.argmax()  # The answer to explain: the model's top class.

{INTEGRATED_GRADIENTS if method == "integrated-gradients" else OCCLUSION}
heat = heat / heat.max() if heat.max() > 0 else heat  # 1 = where it looked most.
np.save("heatmap.npy", heat)  # The array `python -m hubdemo explain` writes, too.
plt.imshow(image)
plt.imshow(heat, cmap="turbo", alpha=0.5)
plt.title(f"{{class_name(c)}}: {{p[c]:.0%}}")
plt.axis("off")
plt.show()'''


FEATURES = '''feature_layer = hub.KerasLayer(HANDLE, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3))
features = np.concatenate([feature_layer(np.stack([load(f, IMAGE_SIZE) for f in files[i:i + 32]])).numpy()
                           for i in range(0, len(files), 32)])  # One row of numbers per photo.'''


STAR_CODE = '''
MY_PHOTOS = {names}  # The photos you placed on the map: put them beside this script.
for name in MY_PHOTOS:
    mine = feature_layer(load(name, IMAGE_SIZE)[None]).numpy()[0]
    similarity = features @ mine / np.maximum(np.linalg.norm(features, axis=1) * np.linalg.norm(mine), 1e-12)
    nearest = np.argsort(-similarity, kind="stable")[:{k}]  # Its nearest photos by features.
    for i in nearest:
        print(f"{{name}}: {{class_names[labels[i]]}} {{similarity[i]:.3f}} {{files[i]}}")
    plt.scatter(*xy[nearest].mean(axis=0), marker="*", s=400, c="black")
    plt.annotate(name, xy[nearest].mean(axis=0), xytext=(8, 0), textcoords="offset points")'''


def feature_map_code(data_dir: Path, handle: str, method: str, image_size: int | None = None,
                     placed: Sequence[str] = ()) -> str:
    """Every photo's features, laid out in 2-D (PCA or t-SNE), coloured by class; with ``placed`` (photos' file
    names), each placed among its nearest photos by features, as the page does (``projection.place``)."""
    image_size = image_size or models.declared_input_size(handle)
    star = STAR_CODE.format(names=repr(list(placed)), k=projection.NEIGHBOURS) if placed else ""
    layout = ('''from sklearn.manifold import TSNE
xy = TSNE(2, init="pca", perplexity=min(30, (len(features) - 1) / 3), random_state=0).fit_transform(features)'''
              if method == "tsne" else '''import umap  # pip install umap-learn
xy = umap.UMAP(n_neighbors=min(15, len(features) - 1), random_state=0).fit_transform(features)'''
              if method == "umap" else '''centred = features - features.mean(axis=0)
values, vectors = np.linalg.eigh(centred @ centred.T)
xy = vectors[:, ::-1][:, :2] * np.sqrt(np.maximum(values[::-1][:2], 0))  # PCA: the two largest directions.''')
    return f'''{SETUP}
import matplotlib.pyplot as plt

{handle_lines(handle)}
IMAGE_SIZE = {image_size}

{dataset_code(data_dir)}


{LOAD_IMAGE}


{FEATURES}
{layout}
for label, name in enumerate(class_names):
    plt.scatter(*xy[labels == label].T, s=12, label=name){star}
plt.legend()
plt.show()'''


def learning_curve_code(data_dir: Path, handle: str, validation_split: float, seed: int, image_size: int,
                        sizes=(1, 2, 5, 10, 20, 50), draws: int = 5) -> str:
    """Accuracy against training photos per class: a linear last layer on a few drawn photos' features."""
    return f'''{SETUP}
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression  # A linear layer with a softmax, fitted in a blink.

{handle_lines(handle)}
IMAGE_SIZE = {image_size}
VALIDATION_SPLIT = {validation_split!r}
SEED = {seed}
SIZES, DRAWS = {list(sizes)!r}, {draws}

{dataset_code(data_dir)}

{SPLIT}


{LOAD_IMAGE}


{FEATURES}


def score(chosen):
    """Validation accuracy of a last layer trained on the photos ``chosen`` only."""
    layer = LogisticRegression(max_iter=300).fit(features[chosen], labels[chosen])
    return (layer.predict(features[val_idx]) == labels[val_idx]).mean()


rng = np.random.default_rng(SEED)
by_class = [train_idx[labels[train_idx] == c] for c in np.unique(labels[train_idx])]
sizes = [n for n in SIZES if n < min(map(len, by_class))]
means, lows, highs = [], [], []
for n in sizes:  # A few random draws of n photos per class: which photos matters too.
    scores = [score(np.concatenate([rng.choice(members, n, replace=False) for members in by_class]))
              for _ in range(DRAWS)]
    means.append(np.mean(scores)); lows.append(min(scores)); highs.append(max(scores))
    print(f"{{n:3d}} per class: {{np.mean(scores):.1%}} (from {{min(scores):.1%}} to {{max(scores):.1%}})")
print(f"all {{len(train_idx)}} training photos: {{score(train_idx):.1%}}")
plt.errorbar(sizes, means, yerr=[np.subtract(means, lows), np.subtract(highs, means)], marker="o", capsize=3)
plt.xscale("log")
plt.xlabel("training photos per class")
plt.ylabel("validation accuracy")
plt.show()'''


def write_notebook(path: Path, text: str) -> Path:
    """Write a notebook's text to ``path`` (``.ipynb``), refusing to overwrite something that is not one."""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise HubDemoError(_("A notebook's file name ends in .ipynb, not '{name}'.").format(name=path.name))
    if path.exists() and not _is_notebook(path):
        raise HubDemoError(_("{path} exists and is not a notebook; choose another file name.").format(path=path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _is_notebook(path: Path) -> bool:
    try:
        return "cells" in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False

