"""Classify: what does an ImageNet model (or your own) see in your photos, or live in front of the camera?"""

import streamlit as st

import cached
import camera
import model_picker
import warmup
import widgets
from hubdemo import charts, explain, images, models, notebook
from hubdemo.i18n import _, sentences

UPLOAD, LIVE, SNAPSHOT = camera.UPLOAD, camera.LIVE, camera.SNAPSHOT
HEAT_WIDTH = 320  # Pixels: at most, and the column's width where that is narrower.
IMAGENET_CLASSES = 1000  # The kept sample answer's model, before it has loaded.

widgets.use_router()
st.title(_("What does a model see in your photos?"))
choice = model_picker.classifier_picker_ui("classifier")
if choice is None:
    st.stop()
if choice.mine is None:
    st.markdown(
        _("Drop in photos and a neural network trained on **ImageNet** (1.2 million photos of 1,000 kinds "
          "of things) says what it thinks is in each one, with how sure it is. This is step 1 of the "
          "transfer-learning tutorial: a ready-made model from TensorFlow Hub, used as it is."))
elif choice.from_scratch:
    st.markdown(
        _("Your model **{label}** was trained from scratch: the same network as the ImageNet "
          "model beside it, but from random weights, so everything it knows comes from your photos. Compare what "
          "each says: {count} learnt from a few hundred photos, against "
          "1,000 learnt from 1.2 million.").format(
                  label=widgets.plain(choice.label), count=widgets.count(len(choice.mine.labels), 'class')))
else:
    st.markdown(
        _("Your model **{label}** beside the ImageNet model it was built on. Both look "
          "at a photo through the same network and get the same features; only the last layer differs. "
          "ImageNet's last layer knows 1,000 everyday things, yours knows "
          "{count}: **{labels}**.").format(
              label=widgets.plain(choice.label), count=widgets.count(len(choice.mine.labels), 'class'),
              labels=widgets.name_list(choice.mine.labels)))
model_picker.suggest_yours_ui("classifier", choice)


def inputs_ui(mode: str) -> list[tuple[str, bytes]]:
    """The photos to classify: uploads, or a snapshot; the tutorial's sample when there are none."""
    if mode == SNAPSHOT:
        shot = camera.snapshot_ui("classifier")
        return [shot] if shot else []
    uploads = st.file_uploader(_("Drop photos here"), accept_multiple_files=True, key="uploads",
                               help=_("JPEG, PNG, HEIC (iPhone), WebP, GIF, BMP, TIFF… as many as you like."))
    files = [(f.name, f.getvalue()) for f in uploads or []]
    if not files:
        st.caption(_("No photo yet, so here is the tutorial's sample: {credit}").format(credit=_(images.SAMPLE_CREDIT)))
        files = [(images.SAMPLE_NAME, images.sample_photo())]
    return files


def guess_ui(where, result: models.ImageResult, who: str, n_classes: int, whose: str, heat=None) -> None:
    """One model's answer: who answered, the top class with its probability first, the bars, whether to trust
    it, and where it looked.

    Args:
        whose: "yours" (a trained model), "beside" (ImageNet's, beside yours) or "imagenet" (alone).
    """
    top = result.predictions[0]
    where.caption(who)
    where.markdown(f"### {top.probability:.0%} · {widgets.plain(top.label)}")
    where.altair_chart(charts.top_k_bars(result.predictions))
    where.caption(_("{seconds:.0f} ms for this photo.").format(seconds=result.seconds * 1000))
    if models.unsure(top.probability, n_classes):
        why = {"yours": _("The photo may show none of your {count}, or too little of one: a model only ever chooses "
                          "among the classes it was taught."),
               "beside": _("The photo may show something none of its {count} fits, so it names the closest thing "
                           "it knows. Your model, beside it, was taught classes of its own."),
               "imagenet": _("The photo may show something none of its {count} fits, so it names the closest thing "
                             "it knows. Teaching it classes of your own is what the Train page is for.")}[whose]
        where.info(sentences(_("Not sure: {share:.0%} for its best guess.").format(share=top.probability),
                             why.format(count=widgets.count(n_classes, "class"))), icon=":material/help:")
    if heat is not None:
        picture, found = heat
        where.image(picture, caption=_("Where it looks for “{label}” · {method} · {seconds:.2f} s").format(
            label=widgets.plain(found.label), method=widgets.method_title(found.method), seconds=found.seconds))


def heat_for(model: models.ImageClassifier, name: str, data: bytes):
    """The heatmap of ``model``'s top class, by the chosen method or, where the model does not allow it, its own."""
    if not look:
        return None
    allowed = explain.methods_for(model)
    with st.spinner(_("Working out where it looks…")):
        return cached.heatmap(model.uid, name, data, method if method in allowed else allowed[0], HEAT_WIDTH, model)


def result_ui(name: str, data: bytes) -> None:
    """One photo beside ImageNet's guess and, when one is chosen, your model's; or the photo's error."""
    answers = []  # (who, their result, the model, how many classes it has, whose: see guess_ui)
    if imagenet is not None or kept is not None:
        who = (_("ImageNet's **{model}** says").format(model=widgets.plain(models.short_name(choice.imagenet_handle)))
               if choice.mine else _("**{model}** says").format(model=widgets.plain(choice.label)))
        answers.append((who, kept if kept is not None and name == images.SAMPLE_NAME
                        else cached.classify(choice.imagenet_handle, name, data), imagenet,
                        len(imagenet.labels) if imagenet is not None else IMAGENET_CLASSES,
                        "beside" if choice.mine else "imagenet"))
    if choice.mine is not None:
        answers.append((_("Your model **{model}** says").format(model=widgets.plain(choice.label)),
                        cached.classify_mine(choice.mine.uid, name, data, 5, choice.mine), choice.mine,
                        len(choice.mine.labels), "yours"))
    with st.container(border=True):
        error = next((result.error for _, result, *_ in answers if result.error), None)
        if error:
            st.error(widgets.plain(error), icon=":material/broken_image:")
            return
        picture, *columns = st.columns([1, 2] if len(answers) == 1 else [2, 3, 3])
        picture.image(cached.display_image(data), caption=widgets.plain(name))
        for column, (who, result, model, n_classes, whose) in zip(columns, answers):
            guess_ui(column, result, who, n_classes, whose, heat_for(model, name, data))


source, lens = st.columns([3, 2], vertical_alignment="bottom")
mode = source.radio(_("Photos from"), (UPLOAD, LIVE, SNAPSHOT), horizontal=True, key="classifier_input", format_func=_,
                    help=_("Live camera classifies the video continuously; a snapshot is one photo at a time."))
look = lens.toggle(_("Where is it looking?"), key="classifier_heat",
                  help=_("A heatmap over each photo: red where the model found the evidence "
                         "for its answer, blue where it did not look."))
if look and mode == LIVE:  # Only Grad-CAM keeps up with video; nothing new above the video (it would restart).
    method = "gradcam"
else:
    method = lens.selectbox(_("Heatmap method"), explain.METHODS, format_func=widgets.method_title,
                            key="classifier_heat_method", help=_(widgets.METHODS_HELP)) if look else None

# The first page of a launch: the sample photo alone, answered by the model's own answer kept from its last
# launch, while TensorFlow and the model load behind it (hubdemo.first_answer). Loaded below, after it is shown.
first_view = choice.mine is None and mode == UPLOAD and not look and not st.session_state.get("uploads")
kept = cached.sample_answer(choice.imagenet_handle) if first_view else None
imagenet = None if kept else widgets.classifier_ui(choice.imagenet_handle)
if imagenet is None and kept is None and choice.mine is None:
    st.stop()
if imagenet is None and kept is None:  # Your model carries its own weights: it still answers, alone.
    st.info(_("Your model answers alone: the ImageNet model it was built on could not be loaded here."),
            icon=":material/info:")
if mode == LIVE:
    camera.live_ui(choice.mine or imagenet, choice.label, "classifier", look=look)
else:
    for name, data in inputs_ui(mode):
        result_ui(name, data)

with st.expander(_("How does this work, and how would I write it in Keras?")):
    size, outputs = ((imagenet.input_size, len(imagenet.labels)) if imagenet else
                     (models.declared_input_size(choice.imagenet_handle), 1000) if kept else
                     (choice.mine.input_size, 1000))
    st.markdown(
        _("""
The model is a **convolutional neural network**. Each photo is resized to {size}×{size} pixels with
values between 0 and 1, and the network returns one score (a *logit*) for each of its
{outputs} classes. The *softmax* turns the scores into probabilities that add up to 100%.
ImageNet's classes are everyday objects, animals and plants ("daisy", "golden retriever", "military
uniform"), so a photo of something not among them gets the closest guess it knows. A model you trained
keeps every layer of the network but the last, and its new last layer scores *your* classes instead.

The same thing in a few lines of Python, as in the tutorial:
""").format(size=size, outputs=outputs))
    st.code(notebook.classify_code(choice.imagenet_handle, size), language="python")
    if choice.mine is not None:
        st.markdown(_("And your model, **{label}**, outside the app: its export (the Train page's **Export**) "
                      "loaded with TensorFlow alone, no TF Hub needed, its class names from `labels.txt`:").format(
                              label=widgets.plain(choice.label)))
        st.code(notebook.your_model_code(choice.folder, choice.mine.input_size), language="python")
    if look:
        shown = "occlusion" if method == "gradcam" else method  # Grad-CAM needs the inner layers: no TF Hub code.
        whose = choice.label if choice.mine is not None else models.short_name(choice.imagenet_handle)
        st.markdown((_("Where is it looking? The heatmaps here are drawn by Grad-CAM, which reads the network's "
                       "inner layers. A TF Hub model does not show them (the app rebuilds the network layer by "
                       "layer for it), so here is the same question for **{model}** answered by occlusion, which "
                       "works with any model:") if method == "gradcam" else
                     _("Where is it looking? The heatmap of **{model}** by {method}:")).format(
                             model=widgets.plain(whose), method=widgets.method_title(method)))
        st.code(notebook.heatmap_code(shown, choice.mine.input_size if choice.mine is not None else size,
                                      **({"folder": choice.folder} if choice.mine is not None
                                         else {"handle": choice.imagenet_handle})), language="python")

if kept is not None:  # The page is on screen: now the model, for the next photo.
    warmup.FIRST_PAGE_SHOWN.set()
    widgets.classifier_ui(choice.imagenet_handle)
